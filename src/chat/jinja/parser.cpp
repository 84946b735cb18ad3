#include "chat/jinja/parser.h"

#include <algorithm>
#include <initializer_list>
#include <set>
#include <string_view>

#include "chat/jinja/js_text.h"
#include "chat/jinja/value.h"

namespace dseek::jinja {

namespace {

enum class ArgMode { kCall, kParameters };

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, size_t end_offset, const ParseLimits& limits)
      : t_(tokens), end_offset_(end_offset), limits_(limits) {}

  NodePtr program() {
    auto prog = make(NodeKind::kProgram, 0);
    while (cur_ < t_.size()) prog->list.push_back(parse_any());
    return done(std::move(prog));
  }

 private:
  const std::vector<Token>& t_;
  size_t cur_ = 0;
  size_t end_offset_;
  ParseLimits limits_;
  int nesting_ = 0;

  struct Nest {
    Parser& p;
    Nest(Parser& parser, size_t offset) : p(parser) {
      if (++p.nesting_ > p.limits_.max_nesting)
        p.error_at(offset, "template nested more than " + std::to_string(p.limits_.max_nesting) + " levels deep");
    }
    ~Nest() { --p.nesting_; }
  };

  [[noreturn]] void error_at(size_t offset, std::string message) const { throw Failure{std::move(message), offset, true}; }
  size_t here() const { return cur_ < t_.size() ? t_[cur_].offset : end_offset_; }
  [[noreturn]] void error(std::string message) const { error_at(here(), std::move(message)); }

  NodePtr make(NodeKind kind, size_t offset) { return std::make_unique<Node>(kind, offset); }

  // Sets the node's depth from its children and enforces the depth limit.
  NodePtr done(NodePtr n) {
    int d = 0;
    for (const NodePtr* child : {&n->a, &n->b, &n->c})
      if (*child) d = std::max(d, (*child)->depth);
    for (const NodeList* l : {&n->list, &n->list2, &n->list3})
      for (const NodePtr& child : *l) d = std::max(d, child->depth);
    n->depth = d + 1;
    if (n->depth > limits_.max_tree_depth)
      error_at(n->offset, "template expression nested more than " + std::to_string(limits_.max_tree_depth) +
                              " levels deep");
    return n;
  }

  bool at_end() const { return cur_ >= t_.size(); }
  const Token& token() const {
    if (at_end()) error("Unexpected end of template");
    return t_[cur_];
  }

  bool is(TokenType type, size_t ahead = 0) const { return cur_ + ahead < t_.size() && t_[cur_ + ahead].type == type; }

  bool is_identifier(std::string_view name, size_t ahead = 0) const {
    return is(TokenType::kIdentifier, ahead) && t_[cur_ + ahead].value == name;
  }

  bool is_statement(std::initializer_list<std::string_view> names) const {
    if (!is(TokenType::kOpenStatement) || !is(TokenType::kIdentifier, 1)) return false;
    return std::find(names.begin(), names.end(), t_[cur_ + 1].value) != names.end();
  }

  const Token& expect(TokenType type, std::string_view what) {
    if (at_end())
      error("Parser Error: " + std::string(what) + "; the template ended (expected " + token_type_name(type) + ")");
    const Token& tok = t_[cur_];
    if (tok.type != type)
      error("Parser Error: " + std::string(what) + ". " + token_type_name(tok.type) + " !== " + token_type_name(type) + ".");
    ++cur_;
    return tok;
  }

  void expect_identifier(std::string_view name) {
    if (!is_identifier(name)) error("Expected " + std::string(name));
    ++cur_;
  }

  // Statements until one of the named end tags; the template ending first is an error.
  void parse_until(NodeList& body, std::initializer_list<std::string_view> ends) {
    while (!is_statement(ends)) {
      if (at_end()) {
        std::string names;
        for (auto e : ends) names += (names.empty() ? "{% " : " or {% ") + std::string(e) + " %}";
        error("Unexpected end of template: expected " + names);
      }
      body.push_back(parse_any());
    }
  }

  NodePtr parse_any() {
    const Token& tok = token();
    Nest nest(*this, tok.offset);
    switch (tok.type) {
      case TokenType::kComment: {
        auto n = make(NodeKind::kComment, tok.offset);
        n->text = tok.value;
        ++cur_;
        return done(std::move(n));
      }
      case TokenType::kText: {
        auto n = make(NodeKind::kStringLiteral, tok.offset);
        n->text = tok.value;
        ++cur_;
        return done(std::move(n));
      }
      case TokenType::kOpenStatement:
        return parse_statement();
      case TokenType::kOpenExpression: {
        expect(TokenType::kOpenExpression, "Expected opening expression token");
        NodePtr e = parse_expression();
        expect(TokenType::kCloseExpression, "Expected closing expression token");
        return e;
      }
      default:
        error(std::string("Unexpected token type: ") + token_type_name(tok.type));
    }
  }

  NodePtr parse_statement() {
    expect(TokenType::kOpenStatement, "Expected opening statement token");
    const Token& name_tok = token();
    if (name_tok.type != TokenType::kIdentifier)
      error(std::string("Unknown statement, got ") + token_type_name(name_tok.type));
    const std::string name = name_tok.value;
    const size_t at = name_tok.offset;
    ++cur_;
    if (name == "set") return parse_set(at);
    if (name == "if") {
      NodePtr n = parse_if(at);
      expect(TokenType::kOpenStatement, "Expected {% token");
      expect_identifier("endif");
      expect(TokenType::kCloseStatement, "Expected %} token");
      return n;
    }
    if (name == "macro") {
      NodePtr n = parse_macro(at);
      expect(TokenType::kOpenStatement, "Expected {% token");
      expect_identifier("endmacro");
      expect(TokenType::kCloseStatement, "Expected %} token");
      return n;
    }
    if (name == "for") {
      NodePtr n = parse_for(at);
      expect(TokenType::kOpenStatement, "Expected {% token");
      expect_identifier("endfor");
      expect(TokenType::kCloseStatement, "Expected %} token");
      return n;
    }
    if (name == "call") return parse_call_block(at);
    if (name == "break" || name == "continue") {
      expect(TokenType::kCloseStatement, "Expected closing statement token");
      return done(make(name == "break" ? NodeKind::kBreak : NodeKind::kContinue, at));
    }
    if (name == "filter") return parse_filter_block(at);
    error_at(at, "Unknown statement type: " + name);
  }

  NodePtr parse_set(size_t at) {
    auto n = make(NodeKind::kSet, at);
    n->a = parse_expression_sequence(false);
    if (is(TokenType::kEquals)) {
      ++cur_;
      n->b = parse_expression_sequence(false);
    } else {
      expect(TokenType::kCloseStatement, "Expected %} token");
      parse_until(n->list, {"endset"});
      expect(TokenType::kOpenStatement, "Expected {% token");
      expect_identifier("endset");
    }
    expect(TokenType::kCloseStatement, "Expected closing statement token");
    return done(std::move(n));
  }

  NodePtr parse_if(size_t at) {
    auto n = make(NodeKind::kIf, at);
    n->a = parse_expression();
    expect(TokenType::kCloseStatement, "Expected closing statement token");
    parse_until(n->list, {"elif", "else", "endif"});
    if (is_statement({"elif"})) {
      const size_t elif_at = t_[cur_ + 1].offset;
      cur_ += 2;
      Nest nest(*this, elif_at);
      n->list2.push_back(parse_if(elif_at));
    } else if (is_statement({"else"})) {
      cur_ += 2;
      expect(TokenType::kCloseStatement, "Expected closing statement token");
      parse_until(n->list2, {"endif"});
    }
    return done(std::move(n));
  }

  NodePtr parse_macro(size_t at) {
    auto n = make(NodeKind::kMacro, at);
    n->a = parse_primary();
    if (n->a->kind != NodeKind::kIdentifier) error_at(n->a->offset, "Expected identifier following macro statement");
    n->list = parse_args(ArgMode::kParameters);
    expect(TokenType::kCloseStatement, "Expected closing statement token");
    parse_until(n->list2, {"endmacro"});
    return done(std::move(n));
  }

  NodePtr parse_for(size_t at) {
    auto n = make(NodeKind::kFor, at);
    n->a = parse_expression_sequence(true);
    if (n->a->kind != NodeKind::kIdentifier && n->a->kind != NodeKind::kTupleLiteral)
      error_at(n->a->offset, "Expected identifier/tuple for the loop variable");
    if (!is_identifier("in")) error("Expected `in` keyword following loop variable");
    ++cur_;
    n->b = parse_expression();
    expect(TokenType::kCloseStatement, "Expected closing statement token");
    parse_until(n->list, {"endfor", "else"});
    if (is_statement({"else"})) {
      cur_ += 2;
      expect(TokenType::kCloseStatement, "Expected closing statement token");
      parse_until(n->list2, {"endfor"});
    }
    return done(std::move(n));
  }

  NodePtr parse_call_block(size_t at) {
    auto n = make(NodeKind::kCallBlock, at);
    if (is(TokenType::kOpenParen)) {
      n->flag = true;
      n->list = parse_args(ArgMode::kParameters);
    }
    NodePtr callee = parse_primary();
    if (callee->kind != NodeKind::kIdentifier) error_at(callee->offset, "Expected identifier following call statement");
    auto call = make(NodeKind::kCall, callee->offset);
    call->a = std::move(callee);
    call->list = parse_args(ArgMode::kCall);
    n->a = done(std::move(call));
    expect(TokenType::kCloseStatement, "Expected closing statement token");
    parse_until(n->list2, {"endcall"});
    expect(TokenType::kOpenStatement, "Expected '{%'");
    expect_identifier("endcall");
    expect(TokenType::kCloseStatement, "Expected closing statement token");
    return done(std::move(n));
  }

  NodePtr parse_filter_block(size_t at) {
    auto n = make(NodeKind::kFilterBlock, at);
    NodePtr filter = parse_primary();
    if (filter->kind == NodeKind::kIdentifier && is(TokenType::kOpenParen)) filter = parse_call(std::move(filter));
    n->a = std::move(filter);
    expect(TokenType::kCloseStatement, "Expected closing statement token");
    parse_until(n->list, {"endfilter"});
    expect(TokenType::kOpenStatement, "Expected '{%'");
    expect_identifier("endfilter");
    expect(TokenType::kCloseStatement, "Expected '%}'");
    return done(std::move(n));
  }

  NodePtr parse_expression_sequence(bool primary) {
    const size_t at = here();
    NodePtr first = primary ? parse_primary() : parse_expression();
    if (!is(TokenType::kComma)) return first;
    auto tuple = make(NodeKind::kTupleLiteral, at);
    tuple->list.push_back(std::move(first));
    while (true) {
      ++cur_;  // the comma
      tuple->list.push_back(primary ? parse_primary() : parse_expression());
      if (!is(TokenType::kComma)) break;
    }
    return done(std::move(tuple));
  }

  NodePtr parse_expression() {
    Nest nest(*this, here());
    return parse_if_expression();
  }

  NodePtr parse_if_expression() {
    NodePtr a = parse_logical_or();
    if (!is_identifier("if")) return a;
    const size_t at = here();
    ++cur_;
    NodePtr test = parse_logical_or();
    if (is_identifier("else")) {
      ++cur_;
      Nest nest(*this, at);
      auto n = make(NodeKind::kTernary, at);
      n->a = std::move(test);
      n->b = std::move(a);
      n->c = parse_if_expression();
      return done(std::move(n));
    }
    auto n = make(NodeKind::kSelect, at);
    n->a = std::move(a);
    n->b = std::move(test);
    return done(std::move(n));
  }

  NodePtr binary(NodePtr left, const Token& op_tok, BinaryOp op, NodePtr right) {
    auto n = make(NodeKind::kBinary, op_tok.offset);
    n->op = op;
    n->text = op_tok.value;
    n->a = std::move(left);
    n->b = std::move(right);
    return done(std::move(n));
  }

  NodePtr parse_logical_or() {
    NodePtr left = parse_logical_and();
    while (is_identifier("or")) {
      const Token& op = t_[cur_++];
      left = binary(std::move(left), op, BinaryOp::kOr, parse_logical_and());
    }
    return left;
  }

  NodePtr parse_logical_and() {
    NodePtr left = parse_logical_not();
    while (is_identifier("and")) {
      const Token& op = t_[cur_++];
      left = binary(std::move(left), op, BinaryOp::kAnd, parse_logical_not());
    }
    return left;
  }

  NodePtr parse_logical_not() {
    NodePtr right;
    // As in the reference, a second `not` after a complete operand starts a
    // new negation that replaces the first.
    while (is_identifier("not")) {
      const size_t at = t_[cur_].offset;
      ++cur_;
      Nest nest(*this, at);
      auto n = make(NodeKind::kUnary, at);
      n->text = "not";
      n->a = parse_logical_not();
      right = done(std::move(n));
    }
    return right ? std::move(right) : parse_comparison();
  }

  NodePtr parse_comparison() {
    NodePtr left = parse_additive();
    while (true) {
      BinaryOp op;
      Token op_tok;
      if (is_identifier("not") && is_identifier("in", 1)) {
        op = BinaryOp::kNotIn;
        op_tok = Token{TokenType::kIdentifier, "not in", t_[cur_].offset};
        cur_ += 2;
      } else if (is_identifier("in")) {
        op = BinaryOp::kIn;
        op_tok = t_[cur_++];
      } else if (is(TokenType::kComparisonBinaryOperator)) {
        op_tok = t_[cur_++];
        const std::string& v = op_tok.value;
        op = v == "==" ? BinaryOp::kEq
             : v == "!=" ? BinaryOp::kNe
             : v == "<"  ? BinaryOp::kLt
             : v == ">"  ? BinaryOp::kGt
             : v == "<=" ? BinaryOp::kLe
                         : BinaryOp::kGe;
      } else {
        break;
      }
      left = binary(std::move(left), op_tok, op, parse_additive());
    }
    return left;
  }

  NodePtr parse_additive() {
    NodePtr left = parse_multiplicative();
    while (is(TokenType::kAdditiveBinaryOperator)) {
      const Token& op = t_[cur_++];
      const BinaryOp kind = op.value == "+" ? BinaryOp::kAdd : op.value == "-" ? BinaryOp::kSub : BinaryOp::kConcat;
      left = binary(std::move(left), op, kind, parse_multiplicative());
    }
    return left;
  }

  NodePtr parse_multiplicative() {
    NodePtr left = parse_power();
    while (is(TokenType::kMultiplicativeBinaryOperator)) {
      const Token& op = t_[cur_++];
      const BinaryOp kind = op.value == "*"    ? BinaryOp::kMul
                            : op.value == "/"  ? BinaryOp::kDiv
                            : op.value == "//" ? BinaryOp::kFloorDiv
                                               : BinaryOp::kMod;
      left = binary(std::move(left), op, kind, parse_power());
    }
    return left;
  }

  NodePtr parse_power() {
    NodePtr left = parse_test();
    while (is(TokenType::kExponentiationBinaryOperator)) {
      const Token& op = t_[cur_++];
      left = binary(std::move(left), op, BinaryOp::kPow, parse_test());
    }
    return left;
  }

  NodePtr parse_test() {
    NodePtr operand = parse_filter();
    while (is_identifier("is")) {
      const size_t at = t_[cur_].offset;
      ++cur_;
      const bool negate = is_identifier("not");
      if (negate) ++cur_;
      NodePtr test = parse_primary();
      if (test->kind != NodeKind::kIdentifier) error_at(test->offset, "Expected identifier for the test");
      auto n = make(NodeKind::kTest, at);
      n->a = std::move(operand);
      n->text = test->text;
      n->flag = negate;
      operand = done(std::move(n));
    }
    return operand;
  }

  NodePtr parse_filter() {
    NodePtr operand = parse_unary_sign();
    while (is(TokenType::kPipe)) {
      ++cur_;
      NodePtr filter = parse_primary();
      if (filter->kind != NodeKind::kIdentifier) error_at(filter->offset, "Expected identifier for the filter");
      if (is(TokenType::kOpenParen)) filter = parse_call(std::move(filter));
      auto n = make(NodeKind::kFilter, filter->offset);
      n->a = std::move(operand);
      n->b = std::move(filter);
      operand = done(std::move(n));
    }
    return operand;
  }

  NodePtr parse_unary_sign() {
    if (!at_end()) {
      const Token& tok = t_[cur_];
      if ((tok.type == TokenType::kUnaryOperator || tok.type == TokenType::kAdditiveBinaryOperator) &&
          (tok.value == "-" || tok.value == "+")) {
        ++cur_;
        Nest nest(*this, tok.offset);
        auto n = make(NodeKind::kUnary, tok.offset);
        n->text = tok.value;
        n->a = parse_unary_sign();
        return done(std::move(n));
      }
    }
    NodePtr member = parse_member(parse_primary());
    if (is(TokenType::kOpenParen)) return parse_call(std::move(member));
    return member;
  }

  NodePtr parse_call(NodePtr callee) {
    auto n = make(NodeKind::kCall, callee->offset);
    n->a = std::move(callee);
    n->list = parse_args(ArgMode::kCall);
    NodePtr expr = parse_member(done(std::move(n)));
    if (is(TokenType::kOpenParen)) {
      Nest nest(*this, here());
      return parse_call(std::move(expr));
    }
    return expr;
  }

  NodeList parse_args(ArgMode mode) {
    expect(TokenType::kOpenParen, "Expected opening parenthesis for arguments list");
    NodeList args;
    std::set<std::string> names;
    bool saw_keyword = false;
    bool saw_spread = false;
    while (!is(TokenType::kCloseParen)) {
      if (at_end()) error("Unexpected end of template in an argument list");
      const size_t at = here();
      const bool keyword_spread = is(TokenType::kExponentiationBinaryOperator);
      const bool positional_spread = is(TokenType::kMultiplicativeBinaryOperator) && t_[cur_].value == "*";
      if (mode == ArgMode::kParameters && (keyword_spread || positional_spread))
        error("Argument unpacking is not allowed in parameter declarations");
      if (keyword_spread) {
        ++cur_;
        auto n = make(NodeKind::kKeywordSpread, at);
        n->a = parse_expression();
        args.push_back(done(std::move(n)));
        if (is(TokenType::kComma)) ++cur_;
        if (!is(TokenType::kCloseParen)) error("Expected closing parenthesis: `**` must be applied to the final argument");
        break;
      }
      NodePtr arg;
      if (positional_spread) {
        if (saw_spread) error("Only one `*` argument unpacking is allowed");
        saw_spread = true;
        ++cur_;
        auto n = make(NodeKind::kSpread, at);
        n->a = parse_expression();
        arg = done(std::move(n));
      } else {
        arg = parse_expression();
        if (is(TokenType::kEquals)) {
          ++cur_;
          if (arg->kind != NodeKind::kIdentifier)
            error_at(arg->offset, mode == ArgMode::kParameters ? "Expected identifier for parameter declaration"
                                                               : "Expected identifier for keyword argument");
          auto kw = make(NodeKind::kKeywordArgument, arg->offset);
          kw->text = arg->text;
          kw->a = parse_expression();
          arg = done(std::move(kw));
        }
        if (mode == ArgMode::kParameters) {
          if (arg->kind != NodeKind::kIdentifier && arg->kind != NodeKind::kKeywordArgument)
            error_at(arg->offset, "Expected identifier for parameter declaration");
          if (!names.insert(arg->text).second) error_at(arg->offset, "Duplicate parameter name: " + arg->text);
        }
        if (arg->kind == NodeKind::kKeywordArgument) {
          saw_keyword = true;
        } else if (saw_keyword) {
          error_at(arg->offset, mode == ArgMode::kCall ? "Positional arguments must come before keyword arguments"
                                                       : "Non-default argument follows default argument");
        } else if (saw_spread) {
          error_at(arg->offset, "Positional arguments must not follow `*` argument unpacking");
        }
      }
      args.push_back(std::move(arg));
      if (is(TokenType::kComma)) ++cur_;
    }
    expect(TokenType::kCloseParen, "Expected closing parenthesis for arguments list");
    return args;
  }

  NodePtr parse_subscript(size_t at) {
    NodeList slices;  // null entries: an omitted slice bound
    bool is_slice = false;
    while (!is(TokenType::kCloseSquareBracket)) {
      if (at_end()) error("Unexpected end of template in a subscript");
      if (is(TokenType::kColon)) {
        slices.push_back(nullptr);
        ++cur_;
        is_slice = true;
      } else {
        slices.push_back(parse_expression());
        if (is(TokenType::kColon)) {
          ++cur_;
          is_slice = true;
        }
      }
    }
    if (slices.empty()) error("Expected at least one argument for member/slice expression");
    if (!is_slice) return std::move(slices[0]);
    if (slices.size() > 3) error("Expected 0-3 arguments for slice expression");
    auto n = make(NodeKind::kSlice, at);
    n->a = std::move(slices[0]);
    if (slices.size() > 1) n->b = std::move(slices[1]);
    if (slices.size() > 2) n->c = std::move(slices[2]);
    return done(std::move(n));
  }

  NodePtr parse_member(NodePtr object) {
    while (is(TokenType::kDot) || is(TokenType::kOpenSquareBracket)) {
      const Token& op = t_[cur_++];
      const bool computed = op.type == TokenType::kOpenSquareBracket;
      NodePtr property;
      if (computed) {
        Nest nest(*this, op.offset);
        property = parse_subscript(op.offset);
        expect(TokenType::kCloseSquareBracket, "Expected closing square bracket");
      } else {
        property = parse_primary();
        if (property->kind != NodeKind::kIdentifier && property->kind != NodeKind::kIntegerLiteral)
          error_at(property->offset, "Expected identifier or integer following dot operator");
      }
      auto n = make(NodeKind::kMember, op.offset);
      n->flag = computed;
      n->a = std::move(object);
      n->b = std::move(property);
      object = done(std::move(n));
    }
    return object;
  }

  NodePtr parse_primary() {
    const Token& tok = token();
    ++cur_;
    switch (tok.type) {
      case TokenType::kNumericLiteral: {
        const bool is_float = tok.value.find('.') != std::string::npos;
        auto n = make(is_float ? NodeKind::kFloatLiteral : NodeKind::kIntegerLiteral, tok.offset);
        n->number = js::string_to_number(tok.value);
        n->text = tok.value;
        return done(std::move(n));
      }
      case TokenType::kStringLiteral: {
        auto n = make(NodeKind::kStringLiteral, tok.offset);
        n->text = tok.value;
        while (is(TokenType::kStringLiteral)) n->text += t_[cur_++].value;  // 'a' 'b' is 'ab'
        return done(std::move(n));
      }
      case TokenType::kIdentifier: {
        auto n = make(NodeKind::kIdentifier, tok.offset);
        n->text = tok.value;
        return done(std::move(n));
      }
      case TokenType::kOpenParen: {
        Nest nest(*this, tok.offset);
        NodePtr e = parse_expression_sequence(false);
        expect(TokenType::kCloseParen, "Expected closing parenthesis");
        return e;
      }
      case TokenType::kOpenSquareBracket: {
        Nest nest(*this, tok.offset);
        auto n = make(NodeKind::kArrayLiteral, tok.offset);
        while (!is(TokenType::kCloseSquareBracket)) {
          if (at_end()) error("Unexpected end of template in a list");
          n->list.push_back(parse_expression());
          if (is(TokenType::kComma)) ++cur_;
        }
        ++cur_;
        return done(std::move(n));
      }
      case TokenType::kOpenCurlyBracket: {
        Nest nest(*this, tok.offset);
        auto n = make(NodeKind::kObjectLiteral, tok.offset);
        while (!is(TokenType::kCloseCurlyBracket)) {
          if (at_end()) error("Unexpected end of template in a dict");
          n->list.push_back(parse_expression());
          expect(TokenType::kColon, "Expected colon between key and value in object literal");
          n->list2.push_back(parse_expression());
          if (is(TokenType::kComma)) ++cur_;
        }
        ++cur_;
        return done(std::move(n));
      }
      default:
        error_at(tok.offset, std::string("Unexpected token: ") + token_type_name(tok.type));
    }
  }
};

}  // namespace

NodePtr parse(const std::vector<Token>& tokens, size_t end_offset, const ParseLimits& limits) {
  return Parser(tokens, end_offset, limits).program();
}

}  // namespace dseek::jinja

// The template engine's own promises, checked against hand-worked answers:
// errors name the line and column; hostile templates end in an error instead
// of hanging, exhausting memory or overflowing the stack; and what the
// reference cannot check (from_json, strftime_now, the documented
// differences).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <string>

#include "chat/jinja/js_text.h"
#include "chat/jinja/template.h"

namespace dseek::jinja {
namespace {

using nlohmann::ordered_json;

Result<std::string> render(const std::string& text, const ordered_json& vars = ordered_json::object(),
                           const TemplateLimits& limits = {}, const RenderOptions& options = {}) {
  auto t = Template::parse(text, limits);
  if (!t) return t.error();
  return t->render(vars, options);
}

std::string error_of(const std::string& text, const ordered_json& vars = ordered_json::object(),
                     const TemplateLimits& limits = {}) {
  auto r = render(text, vars, limits);
  EXPECT_FALSE(r.ok()) << "rendered: " << (r.ok() ? r.value() : "");
  return r.ok() ? "" : r.error().message;
}

TEST(TemplateErrors, SyntaxErrorNamesLineAndColumn) {
  // The third line's "}}" (column 10) is where an operand was expected.
  EXPECT_EQ(error_of("Hello\n{% if x %}\n  {{ 1 + }}\n{% endif %}"),
            "line 3, column 10: Unexpected token: CloseExpression");
}

TEST(TemplateErrors, ColumnsCountCharactersNotBytes) {
  EXPECT_EQ(error_of("{{ '日本' ~ none }}"), "line 1, column 9: Cannot perform operation on null values");
}

TEST(TemplateErrors, UnknownFilterAndTest) {
  EXPECT_EQ(error_of("a\n{{ 'x' | nosuch }}"), "line 2, column 10: Unknown StringValue filter: nosuch");
  EXPECT_EQ(error_of("{{ 1 is nosuch }}"), "line 1, column 6: Unknown test: nosuch");
}

TEST(TemplateErrors, RaiseExceptionCarriesTheTemplatesMessage) {
  EXPECT_EQ(error_of("{% if true %}\n  {{ raise_exception('Roles must alternate') }}\n{% endif %}"),
            "line 2, column 6: raise_exception: Roles must alternate");
}

TEST(TemplateErrors, LexerErrors) {
  EXPECT_EQ(error_of("{{ 'abc"), "line 1, column 4: Unexpected end of input");
  EXPECT_EQ(error_of("x {# never closed"), "line 1, column 3: Missing end of comment tag");
  EXPECT_EQ(error_of("{{ 'a\\qb' }}"), "line 1, column 6: Unexpected escaped character: q");
  EXPECT_EQ(error_of("{{ 1 $ 2 }}"), "line 1, column 6: Unexpected character: $");
}

TEST(TemplateErrors, UnclosedAndUnknownBlocks) {
  EXPECT_EQ(error_of("{% for m in messages %}\n{{ m }}"),
            "line 2, column 8: Unexpected end of template: expected {% endfor %} or {% else %}");
  EXPECT_EQ(error_of("ok\n{% endif %}"), "line 2, column 4: Unknown statement type: endif");
}

TEST(TemplateErrors, PositionsSurvivePreprocessing) {
  // trim_blocks drops the newline after %}, lstrip_blocks the indentation
  // before {%; the reported position is still the original one.
  EXPECT_EQ(error_of("{% if true %}\n    {% set x = 1 %}\n    {{ 'a' ~ none }}\n{% endif %}"),
            "line 3, column 12: Cannot perform operation on null values");
}

TEST(TemplateErrors, BreakOutsideLoop) { EXPECT_EQ(error_of("a{% break %}"), "line 1, column 5: break outside of a loop"); }

TEST(TemplateErrors, VariablesMustBeAnObjectAndNotShadowGlobals) {
  auto t = Template::parse("{{ x }}");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->render(ordered_json::array()).ok());
  auto r = t->render(ordered_json{{"range", 1}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("'range' is a global"), std::string::npos) << r.error().message;
}

// --- hostile templates: every one must end with an error, quickly.

TemplateLimits small_limits() {
  TemplateLimits l;
  l.render.max_output_bytes = 1 << 20;
  l.render.max_list_items = 1 << 16;
  l.render.max_loop_iterations = 20000;
  l.render.max_work = 50000000;
  return l;
}

void expect_bounded_error(const std::string& text, const std::string& fragment) {
  const auto start = std::chrono::steady_clock::now();
  const std::string e = error_of(text, ordered_json::object(), small_limits());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(e.find(fragment), std::string::npos) << e;
  EXPECT_LT(seconds, 20.0) << text;  // generous: the sanitizer build on a loaded machine
}

TEST(TemplateLimits, DeepBracketsAreRefusedWhileParsing) {
  expect_bounded_error("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}", "nested more than");
  expect_bounded_error("{{ " + std::string(5000, '[') + " }}", "nested more than");
  std::string nots = "{{ ";
  for (int i = 0; i < 5000; ++i) nots += "not ";
  expect_bounded_error(nots + "x }}", "nested more than");
  std::string ifs;
  for (int i = 0; i < 5000; ++i) ifs += "{% if 1 %}";
  expect_bounded_error(ifs, "nested more than");
}

TEST(TemplateLimits, LongOperatorChainsAreRefusedWhileParsing) {
  std::string chain = "{{ 1";
  for (int i = 0; i < 20000; ++i) chain += " + 1";
  expect_bounded_error(chain + " }}", "nested more than");
  std::string filters = "{{ 'x'";
  for (int i = 0; i < 20000; ++i) filters += " | trim";
  expect_bounded_error(filters + " }}", "nested more than");
}

TEST(TemplateLimits, DeepestAllowedTemplatesStillRender) {
  // Just inside the limits: these run at the deepest evaluation the limits
  // allow, which the sanitizer build checks for stack use.
  std::string chain = "{{ 1";
  for (int i = 0; i < 550; ++i) chain += " + 1";
  auto a = render(chain + " }}");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a.value(), "551");
  std::string filters = "{{ ' x '";
  for (int i = 0; i < 550; ++i) filters += " | trim";
  auto b = render(filters + " }}");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b.value(), "x");
  std::string parens = "{{ " + std::string(45, '(') + "1" + std::string(45, ')') + " }}";
  auto c = render(parens);
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto d = render("{% macro r(n) %}{% if n > 0 %}{{ ((((n)))) }}{{ r(n - 1) }}{% endif %}{% endmacro %}{{ r(45) }}");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d.value().size(), 9u + 2 * 36);
}

TEST(TemplateLimits, NestedLoopsStopAtTheIterationLimit) {
  expect_bounded_error("{% for i in range(60000) %}{% for j in range(60000) %}{% endfor %}{% endfor %}",
                       "loop iterations");
}

TEST(TemplateLimits, RangeLargerThanTheLoopLimitIsRefused) {
  expect_bounded_error("{% for i in range(1000000000000) %}{% endfor %}", "list limit");
}

TEST(TemplateLimits, DoublingStringsStopAtTheSizeLimit) {
  expect_bounded_error(
      "{% set s = namespace(t='x') %}{% for i in range(100) %}{% set s.t = s.t ~ s.t %}{% endfor %}{{ s.t }}",
      "larger than the limit");
  expect_bounded_error(
      "{% set s = namespace(l=[1]) %}{% for i in range(100) %}{% set s.l = s.l + s.l %}{% endfor %}", "longer than");
}

TEST(TemplateLimits, SharedStructuresCannotPrintExponentially) {
  // 40 levels of [v, v]: a small value that would print 2^40 ones.
  expect_bounded_error(
      "{% set n = namespace(v=[1]) %}{% for i in range(40) %}{% set n.v = [n.v, n.v] %}{% endfor %}{{ n.v | tojson }}",
      "larger than");
  expect_bounded_error(
      "{% set n = namespace(v=[1]) %}{% for i in range(40) %}{% set n.v = [n.v, n.v] %}{% endfor %}{{ n.v }}",
      "larger than");
}

TEST(TemplateLimits, ComparingSharedStructuresStaysCheap) {
  // == turns a list into its text; that text is never built past the other side's length.
  const auto start = std::chrono::steady_clock::now();
  auto r = render(
      "{% set n = namespace(v=[1]) %}{% for i in range(40) %}{% set n.v = [n.v, n.v] %}{% endfor %}"
      "{% for i in range(1000) %}{% if n.v == 'x' or n.v == 1 %}!{% endif %}{% endfor %}done",
      ordered_json::object(), small_limits());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value(), "done");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 20.0);
}

TEST(TemplateLimits, DeepValuesAreRefused) {
  expect_bounded_error("{% set n = namespace(v=1) %}{% for i in range(5000) %}{% set n.v = [n.v] %}{% endfor %}",
                       "nested deeper than");
}

TEST(TemplateLimits, RecursiveMacrosStop) {
  expect_bounded_error("{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}", "macro calls nested");
}

TEST(TemplateLimits, NamespaceCyclesFailToPrintAndDoNotLeak) {
  // ASan's leak checker (sanitize preset) would fail this test on a leak.
  expect_bounded_error("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}", "nested deeper than");
  auto ok = render("{% set ns = namespace(a=[1]) %}{% set ns.me = ns %}{% set ns.l = [ns, ns] %}{{ ns.a }}");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok.value(), "[1]");
}

TEST(TemplateLimits, WorkLimitStopsLongRenders) {
  TemplateLimits l = small_limits();
  l.render.max_work = 1000000;
  auto r = render("{% for i in range(60000) %}{% if i is odd %}{% endif %}{% endfor %}", ordered_json::object(), l);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("work limit"), std::string::npos) << r.error().message;
}

TEST(TemplateLimits, OversizedTemplateIsRefused) {
  TemplateLimits l;
  l.max_template_bytes = 10;
  EXPECT_FALSE(Template::parse("{{ 'more than ten bytes' }}", l).ok());
}

// --- beyond the reference

TEST(TemplateExtensions, FromJsonParsesToolArguments) {
  auto r = render(
      "{% set a = args | from_json %}{% for k, v in a.items() %}{{ k }}={{ v | tojson }};{% endfor %}{{ a.n + 1 }}",
      ordered_json{{"args", R"({"city": "Paris", "n": 2, "tags": ["x", null], "deep": {"z": 1.5}})"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value(), "city=\"Paris\";n=2;tags=[\"x\", null];deep={\"z\": 1.5};3");
  EXPECT_NE(error_of("{{ '{bad' | from_json }}").find("from_json: the text is not JSON"), std::string::npos);
  EXPECT_NE(error_of("{{ 5 | from_json }}").find("expected a string"), std::string::npos);
}

TEST(TemplateExtensions, StrftimeNowFormatsTheGivenTime) {
  setenv("TZ", "UTC", 1);
  tzset();
  RenderOptions at;
  at.now_unix_seconds = 1722000300;  // 2024-07-26 13:25:00 UTC
  auto r = render("{{ strftime_now('%d %b %Y, %B %m %H:%M %% %S') }}", ordered_json::object(), {}, at);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value(), "26 Jul 2024, July 07 13:25 % %S");
}

TEST(TemplateDifferences, FirstOfAnEmptyListIsUndefined) {
  // The reference crashes here (it reads a property of JavaScript undefined).
  auto r = render("{{ ([] | first) is defined }}{{ [] | last }}");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value(), "false");
}

TEST(TemplateDifferences, DictsKeepJsonKeyOrder) {
  // JavaScript objects would list "2" and "10" first; JSON order is kept.
  auto r = render("{{ d | tojson }}", ordered_json::parse(R"({"d": {"b": 1, "10": 2, "a": 3, "2": 4}})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), R"({"b": 1, "10": 2, "a": 3, "2": 4})");
}

TEST(JsNumbers, PrintLikeJavaScript) {
  // Number.prototype.toString results from the ECMAScript algorithm.
  EXPECT_EQ(js::number_to_string(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(js::number_to_string(1e21), "1e+21");
  EXPECT_EQ(js::number_to_string(1e20), "100000000000000000000");
  EXPECT_EQ(js::number_to_string(123e-20), "1.23e-18");
  EXPECT_EQ(js::number_to_string(0.000001), "0.000001");
  EXPECT_EQ(js::number_to_string(1e-7), "1e-7");
  EXPECT_EQ(js::number_to_string(-1.5), "-1.5");
  EXPECT_EQ(js::number_to_string(-0.0), "0");
  EXPECT_EQ(js::number_to_string(5e-324), "5e-324");
  EXPECT_EQ(js::float_to_string(2.0), "2.0");
  EXPECT_EQ(js::float_to_string(-0.0), "-0.0");
  EXPECT_EQ(js::float_to_string(1e21), "1e+21");
}

TEST(JsText, Utf16LengthAndTrim) {
  EXPECT_EQ(js::utf16_length("a😀é"), 4u);
  EXPECT_EQ(js::trim("\xE3\x80\x80 x \xEF\xBB\xBF", true, true), "x");
  EXPECT_EQ(js::string_to_number(" 0x1F "), 31);
  EXPECT_TRUE(std::isnan(js::string_to_number("1e")));
  EXPECT_EQ(js::parse_int("  -42px"), -42);
  EXPECT_EQ(js::parse_float(".5e1x"), 5);
}

}  // namespace
}  // namespace dseek::jinja

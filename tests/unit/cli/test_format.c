/* Unit tests of cli/format (Go templates over JSON) and cli/table (tabwriter). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format.h"
#include "json.h"
#include "table.h"

static const char *const document =
    "{\"Id\":\"abc\",\"Name\":\"/web\",\"State\":{\"Status\":\"running\",\"Running\":true,"
    "\"Pid\":42,\"ExitCode\":0},\"Config\":{\"Cmd\":[\"sleep\",\"10\"],\"Entrypoint\":null,"
    "\"Labels\":{\"b\":\"2\",\"a\":\"1\"},\"Env\":[]},\"HostConfig\":{\"ShmSize\":67108864,"
    "\"NanoCpus\":1500000000},\"Note\":\"<x & y>\",\"id\":\"lower\"}";

/* Runs template over the document; returns the output (static) or the error message. */
static const char *run(const char *template_text, int *rc_out)
{
    static char result[1024];
    struct strbuf out = STRBUF_INIT;
    struct format *format = NULL;
    struct berr err;
    yajl_val dot;
    int rc;

    assert_int_equal(json_parse(document, &dot, &err), 0);
    rc = format_parse(template_text, &format, &err);
    if (rc == 0)
        rc = format_exec(format, dot, NULL, &out, &err);
    snprintf(result, sizeof(result), "%s", rc ? err.message : sb_str(&out));
    if (rc_out)
        *rc_out = rc;
    sb_free(&out);
    format_free(format);
    yajl_tree_free(dot);
    return result;
}

static void expect(const char *template_text, const char *output)
{
    int rc;
    const char *got = run(template_text, &rc);

    if (rc)
        fail_msg("%s: %s", template_text, got);
    assert_string_equal(got, output);
}

static void expect_error(const char *template_text, const char *message)
{
    int rc;
    const char *got = run(template_text, &rc);

    assert_int_not_equal(rc, 0);
    assert_string_equal(got, message);
}

static void fields_and_printing(void **state)
{
    (void)state;
    expect("{{.State.Status}}", "running");
    expect("{{.Name}} {{.State.Pid}} {{.State.Running}}", "/web 42 true");
    expect("{{.Config.Cmd}}", "[sleep 10]");
    expect("{{.Config.Labels}}", "map[a:1 b:2]");
    expect("{{.Config.Entrypoint}}", "<no value>");
    expect("{{.HostConfig.ShmSize}}", "67108864");
    expect("{{.State}}", "map[ExitCode:0 Pid:42 Running:true Status:running]");
    expect("text only", "text only");
    expect("{{/* a comment */}}x", "x");
}

static void json_function(void **state)
{
    (void)state;
    expect("{{json .Config.Labels}}", "{\"b\":\"2\",\"a\":\"1\"}");
    expect("{{json .Config.Cmd}}", "[\"sleep\",\"10\"]");
    expect("{{json .Config.Entrypoint}}", "null");
    expect("{{json .Note}}", "\"\\u003cx \\u0026 y\\u003e\"");
    expect("{{json .State.Pid}}", "42");
}

static void control_structures(void **state)
{
    (void)state;
    expect("{{if .State.Running}}up{{else}}down{{end}}", "up");
    expect("{{if .Config.Env}}env{{else if .Config.Cmd}}cmd{{else}}none{{end}}", "cmd");
    expect("{{range .Config.Cmd}}<{{.}}>{{end}}", "<sleep><10>");
    expect("{{range .Config.Env}}x{{else}}empty{{end}}", "empty");
    expect("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", "a=1;b=2;");
    expect("{{range $i, $c := .Config.Cmd}}{{$i}}:{{$c}} {{end}}", "0:sleep 1:10 ");
    expect("{{with .State}}{{.Status}}{{end}}", "running");
    expect("{{with .Config.Env}}x{{else}}no env{{end}}", "no env");
    expect("{{range .Config.Cmd}}{{$.Name}}{{end}}", "/web/web");
    expect("a {{- \" b \" -}} c", "a b c");
}

static void functions_and_pipelines(void **state)
{
    (void)state;
    expect("{{upper .State.Status}}", "RUNNING");
    expect("{{.State.Status | upper}}", "RUNNING");
    expect("{{lower \"ABC\"}} {{title \"hello world\"}}", "abc Hello World");
    expect("{{join .Config.Cmd \",\"}}", "sleep,10");
    expect("{{index .Config.Labels \"a\"}}", "1");
    expect("{{index .Config.Cmd 1}}", "10");
    expect("{{len .Config.Cmd}} {{len .Name}}", "2 4");
    expect("{{printf \"%s-%d\" .Name .State.Pid}}", "/web-42");
    expect("{{printf \"%5s|%-4d|\" \"ab\" 7}}", "   ab|7   |");
    expect("{{println .Name}}", "/web\n");
    expect("{{eq .State.Status \"running\"}} {{ne .State.Pid 42}} {{lt 1 2}}", "true false true");
    expect("{{if and .State.Running (eq .State.Pid 42)}}ok{{end}}", "ok");
    expect("{{not .State.Running}} {{or .Config.Env \"dflt\"}}", "false dflt");
    expect("{{truncate .Id 2}} [{{pad \"x\" 1 2}}]", "ab [ x  ]");
    expect("{{range split \"a:b\" \":\"}}({{.}}){{end}}", "(a)(b)");
    expect("{{(index .Config.Cmd 0) | upper}}", "SLEEP");
}

/* Go's encoding/json matches struct fields without regard to case: {{.ID}} finds "id"
 * (events), exact names first. */
static void case_insensitive_fallback(void **state)
{
    (void)state;
    expect("{{.Id}}", "abc");
    expect("{{.id}}", "lower");
    expect("{{.NAME}} {{.state.status}}", "/web running");
}

static void errors(void **state)
{
    (void)state;
    expect_error("{{.Config.Foo}}",
                 "template: :1:9: executing \"\" at <.Config.Foo>: map has no entry for key "
                 "\"Foo\"");
    expect_error("{{.Foo}}",
                 "template: :1:2: executing \"\" at <.Foo>: map has no entry for key \"Foo\"");
    expect_error("{{.Name", "template: :1: unclosed action");
    expect_error("{{foo .Name}}", "template: :1: function \"foo\" not defined");
    expect_error("{{if .Name}}x", "template: :1: unexpected EOF");
    expect_error("{{end}}", "template: :1: unexpected {{end}}");
    expect_error("{{define \"x\"}}{{end}}",
                 "template: :1: \"define\" is not supported by berth's templates");
    expect_error("x\n{{.Name \"arg\"}}",
                 "template: :2:2: executing \"\" at <.Name>: can't give argument to non-function "
                 ".Name");
}

static void prepare_table_format(void **state)
{
    bool table;
    char *text;

    (void)state;
    text = format_prepare("table {{.ID}}\\t{{.Names}}", &table);
    assert_true(table);
    assert_string_equal(text, "{{.ID}}\t{{.Names}}");
    free(text);
    text = format_prepare("{{.ID}}\\n", &table);
    assert_false(table);
    assert_string_equal(text, "{{.ID}}\n");
    free(text);
}

static char *flush_to_string(struct tabwriter *tw)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);

    tabwriter_flush(tw, out);
    fclose(out);
    return buf;
}

static void tabwriter_columns(void **state)
{
    struct tabwriter tw;
    char *out;

    (void)state;
    tabwriter_init(&tw, 10, 3);
    tabwriter_write(&tw, "CONTAINER ID\tIMAGE\tNAMES\n");
    tabwriter_write(&tw, "3032497c00b8\tbusybox\taffectionate_hertz\n");
    tabwriter_write(&tw, "5ef444d5ecda\tbb\tweb\n");
    out = flush_to_string(&tw);
    assert_string_equal(out, "CONTAINER ID   IMAGE     NAMES\n"
                             "3032497c00b8   busybox   affectionate_hertz\n"
                             "5ef444d5ecda   bb        web\n");
    free(out);
    /* widths count runes, not bytes */
    tabwriter_write(&tw, "\"sh -c 'echo out; ec\xe2\x80\xa6\"\tx\n\"true\"\ty\n");
    out = flush_to_string(&tw);
    assert_string_equal(out, "\"sh -c 'echo out; ec\xe2\x80\xa6\"   x\n"
                             "\"true\"                   y\n");
    free(out);
    tabwriter_free(&tw);
}

static void ellipsis(void **state)
{
    struct strbuf out = STRBUF_INIT;

    (void)state;
    text_ellipsis(&out, "sh -c 'echo out; echo err >&2; sleep 1000'", 20);
    assert_string_equal(sb_str(&out), "sh -c 'echo out; ec\xe2\x80\xa6");
    sb_reset(&out);
    text_ellipsis(&out, "short", 20);
    assert_string_equal(sb_str(&out), "short");
    sb_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fields_and_printing),
        cmocka_unit_test(json_function),
        cmocka_unit_test(control_structures),
        cmocka_unit_test(functions_and_pipelines),
        cmocka_unit_test(case_insensitive_fallback),
        cmocka_unit_test(errors),
        cmocka_unit_test(prepare_table_format),
        cmocka_unit_test(tabwriter_columns),
        cmocka_unit_test(ellipsis),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of supervisord/images: records, filters, names, platforms, the walk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_fixture.h"
#include "record.h"

static struct fixture fixture;

static int setup(void **state)
{
    (void)state;
    return fixture_open(&fixture, 0);
}

static int teardown(void **state)
{
    (void)state;
    fixture_close(&fixture);
    return 0;
}

#define DIGEST_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void create_image(const char *name, const char *digest, const char *label_key,
                         const char *label_value)
{
    Berth__Supervisor__V1__Image image = BERTH__SUPERVISOR__V1__IMAGE__INIT;
    Berth__Supervisor__V1__Descriptor target = BERTH__SUPERVISOR__V1__DESCRIPTOR__INIT;
    Berth__Supervisor__V1__Image__LabelsEntry entry =
        BERTH__SUPERVISOR__V1__IMAGE__LABELS_ENTRY__INIT;
    Berth__Supervisor__V1__Image__LabelsEntry *entries[] = {&entry};
    struct berr err = {0};

    target.media_type = IMAGE_MEDIA_OCI_MANIFEST;
    target.digest = (char *)digest;
    target.size = 123;
    image.name = (char *)name;
    image.target = &target;
    if (label_key) {
        entry.key = (char *)label_key;
        entry.value = (char *)label_value;
        image.n_labels = 1;
        image.labels = entries;
    }
    if (image_store_create(fixture.images, "default", &image, NULL, &err))
        fail_msg("create %s: %s", name, err.message);
}

static int count_image(const Berth__Supervisor__V1__Image *image, void *user)
{
    (void)image;
    (*(int *)user)++;
    return 0;
}

static int count_images(const char *filter)
{
    const char *filters[1] = {filter};
    struct berr err = {0};
    int count = 0;

    if (image_store_list(fixture.images, "default", filters, filter ? 1 : 0, count_image, &count,
                         &err))
        return -1;
    return count;
}

static void creates_gets_updates_deletes(void **state)
{
    Berth__Supervisor__V1__Image image = BERTH__SUPERVISOR__V1__IMAGE__INIT, *out;
    Berth__Supervisor__V1__Descriptor target = BERTH__SUPERVISOR__V1__DESCRIPTOR__INIT;
    Berth__Supervisor__V1__Image__LabelsEntry entry =
        BERTH__SUPERVISOR__V1__IMAGE__LABELS_ENTRY__INIT;
    Berth__Supervisor__V1__Image__LabelsEntry *entries[] = {&entry};
    const char *mask_label[] = {"labels.stage"}, *mask_target[] = {"target"},
               *mask_name[] = {"name"};
    int64_t created;
    struct berr err = {0};
    (void)state;

    create_image("docker.io/library/busybox:latest", DIGEST_A, "team", "core");
    assert_int_equal(
        image_store_get(fixture.images, "default", "docker.io/library/busybox:latest", &out, &err),
        0);
    assert_string_equal(out->target->digest, DIGEST_A);
    assert_string_equal(out->target->media_type, IMAGE_MEDIA_OCI_MANIFEST);
    assert_int_equal(out->target->size, 123);
    assert_int_equal(out->n_labels, 1);
    assert_non_null(out->created_at);
    created = out->created_at->seconds;
    berth__supervisor__v1__image__free_unpacked(out, NULL);

    /* Taken names, missing targets and bad digests are refused. */
    target.media_type = IMAGE_MEDIA_OCI_MANIFEST;
    target.digest = DIGEST_B;
    image.name = "docker.io/library/busybox:latest";
    image.target = &target;
    assert_int_equal(image_store_create(fixture.images, "default", &image, NULL, &err),
                     BERR_EXISTS);
    image.name = "other";
    image.target = NULL;
    assert_int_equal(image_store_create(fixture.images, "default", &image, NULL, &err),
                     BERR_INVALID);
    image.target = &target;
    target.digest = "sha256:short";
    assert_int_equal(image_store_create(fixture.images, "default", &image, NULL, &err),
                     BERR_INVALID);
    image.name = "has space";
    target.digest = DIGEST_B;
    assert_int_equal(image_store_create(fixture.images, "default", &image, NULL, &err),
                     BERR_INVALID);

    /* Names are per namespace. */
    assert_int_equal(
        image_store_get(fixture.images, "other", "docker.io/library/busybox:latest", &out, &err),
        BERR_NOT_FOUND);

    /* labels.KEY, target, and the mask's bounds. */
    image.name = "docker.io/library/busybox:latest";
    entry.key = "stage";
    entry.value = "prod";
    image.n_labels = 1;
    image.labels = entries;
    assert_int_equal(
        image_store_update(fixture.images, "default", &image, mask_label, 1, &out, &err), 0);
    assert_int_equal(out->n_labels, 2);
    assert_string_equal(out->target->digest, DIGEST_A); /* untouched */
    berth__supervisor__v1__image__free_unpacked(out, NULL);
    assert_int_equal(
        image_store_update(fixture.images, "default", &image, mask_target, 1, &out, &err), 0);
    assert_string_equal(out->target->digest, DIGEST_B);
    assert_int_equal(out->created_at->seconds, created);
    berth__supervisor__v1__image__free_unpacked(out, NULL);
    assert_int_equal(
        image_store_update(fixture.images, "default", &image, mask_name, 1, NULL, &err),
        BERR_INVALID);
    /* An empty mask replaces labels and target. */
    target.digest = DIGEST_A;
    assert_int_equal(image_store_update(fixture.images, "default", &image, NULL, 0, &out, &err), 0);
    assert_int_equal(out->n_labels, 1);
    assert_string_equal(out->labels[0]->key, "stage");
    assert_string_equal(out->target->digest, DIGEST_A);
    berth__supervisor__v1__image__free_unpacked(out, NULL);
    image.name = "absent";
    assert_int_equal(image_store_update(fixture.images, "default", &image, NULL, 0, NULL, &err),
                     BERR_NOT_FOUND);

    assert_int_equal(
        image_store_delete(fixture.images, "default", "docker.io/library/busybox:latest", &err), 0);
    assert_int_equal(
        image_store_delete(fixture.images, "default", "docker.io/library/busybox:latest", &err),
        BERR_NOT_FOUND);
    assert_int_equal(count_images(NULL), 0);
}

static void lists_with_filters(void **state)
{
    char filter[128];
    (void)state;

    create_image("docker.io/library/busybox:latest", DIGEST_A, "team", "core");
    create_image("docker.io/library/busybox:1.36", DIGEST_A, "team", "edge");
    create_image("registry.example.com/app:v1", DIGEST_B, NULL, NULL);

    assert_int_equal(count_images(NULL), 3);
    assert_int_equal(count_images("name==docker.io/library/busybox:latest"), 1);
    assert_int_equal(count_images("name~=busybox"), 2);
    assert_int_equal(count_images("labels.team==core"), 1);
    assert_int_equal(count_images("labels.team"), 2);
    snprintf(filter, sizeof(filter), "target.digest==%s", DIGEST_A);
    assert_int_equal(count_images(filter), 2);
    snprintf(filter, sizeof(filter), "target.digest==%s,labels.team==edge", DIGEST_A);
    assert_int_equal(count_images(filter), 1);
    assert_int_equal(count_images("target.media_type==" IMAGE_MEDIA_OCI_MANIFEST), 3);
    assert_int_equal(count_images("name=="), 0);
    assert_int_equal(count_images("!bad"), -1);
}

static void normalizes_names_as_docker(void **state)
{
    static const char *const cases[][2] = {
        {"busybox", "docker.io/library/busybox:latest"},
        {"busybox:1.36", "docker.io/library/busybox:1.36"},
        {"library/busybox", "docker.io/library/busybox:latest"},
        {"docker.io/busybox", "docker.io/library/busybox:latest"},
        {"index.docker.io/library/busybox:x", "docker.io/library/busybox:x"},
        {"user/app", "docker.io/user/app:latest"},
        {"localhost/app", "localhost/app:latest"},
        {"localhost:5000/a/b:v1", "localhost:5000/a/b:v1"},
        {"registry.example.com/team/app__x-y.z:1.0-rc",
         "registry.example.com/team/app__x-y.z:1.0-rc"},
        {"busybox@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "docker.io/library/"
         "busybox@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
        {"busybox:t@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "docker.io/library/"
         "busybox:t@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
    };
    static const char *const refused[] = {
        "",
        "BusyBox",
        "busybox:",
        "busybox:-x",
        "a//b",
        "-a",
        "a-",
        "a..b",
        ":tag",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "busybox@sha256:xyz",
        "bad host!/x",
    };
    struct berr err = {0};
    char *out;
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (image_reference_normalize(cases[i][0], &out, &err))
            fail_msg("%s: %s", cases[i][0], err.message);
        assert_string_equal(out, cases[i][1]);
        free(out);
    }
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (image_reference_normalize(refused[i], &out, &err) == 0)
            fail_msg("%s was accepted as %s", refused[i], out);
    }
}

static void resolves_short_names(void **state)
{
    Berth__Supervisor__V1__Image *out;
    struct berr err = {0};
    (void)state;

    create_image("docker.io/library/busybox:latest", DIGEST_A, NULL, NULL);
    create_image("plain-name", DIGEST_B, NULL, NULL);
    assert_int_equal(image_store_resolve(fixture.images, "default", "busybox", &out, &err), 0);
    assert_string_equal(out->name, "docker.io/library/busybox:latest");
    berth__supervisor__v1__image__free_unpacked(out, NULL);
    assert_int_equal(image_store_resolve(fixture.images, "default", "plain-name", &out, &err), 0);
    berth__supervisor__v1__image__free_unpacked(out, NULL);
    assert_int_equal(image_store_resolve(fixture.images, "default", "alpine", &out, &err),
                     BERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "alpine"));
}

static void matches_platforms(void **state)
{
    struct image_platform wanted, candidate, host;
    char text[96];
    struct berr err = {0};
    (void)state;

    image_platform_host(&host);
    assert_string_equal(host.os, "linux");
    assert_int_equal(image_platform_parse(NULL, &wanted, &err), 0);
    assert_true(image_platform_match(&wanted, &host));

    assert_int_equal(image_platform_parse("linux/arm64", &wanted, &err), 0);
    image_platform_format(&wanted, text, sizeof(text));
    assert_string_equal(text, "linux/arm64/v8");
    memset(&candidate, 0, sizeof(candidate));
    strcpy(candidate.os, "linux");
    strcpy(candidate.architecture, "aarch64");
    assert_true(image_platform_match(&wanted, &candidate));
    strcpy(candidate.architecture, "amd64");
    assert_false(image_platform_match(&wanted, &candidate));

    assert_int_equal(image_platform_parse("linux/arm/v7", &wanted, &err), 0);
    strcpy(candidate.architecture, "arm");
    strcpy(candidate.variant, "v6");
    assert_true(image_platform_match(&wanted, &candidate)); /* v7 runs v6 */
    assert_int_equal(image_platform_parse("linux/arm/v6", &wanted, &err), 0);
    strcpy(candidate.variant, "v7");
    assert_false(image_platform_match(&wanted, &candidate));

    assert_int_equal(image_platform_parse("amd64", &wanted, &err), 0);
    assert_string_equal(wanted.os, "linux");
    strcpy(candidate.os, "windows");
    strcpy(candidate.architecture, "amd64");
    candidate.variant[0] = '\0';
    assert_false(image_platform_match(&wanted, &candidate));
    assert_int_equal(image_platform_parse("linux/", &wanted, &err), BERR_INVALID);
    assert_int_equal(image_platform_parse("a/b/c/d", &wanted, &err), BERR_INVALID);
}

static void computes_chain_ids(void **state)
{
    char diff_ids[3][DIGEST_STRING_SIZE], chain_ids[3][DIGEST_STRING_SIZE];
    char expected[DIGEST_STRING_SIZE], joined[200];
    struct berr err = {0};
    int i;
    (void)state;

    for (i = 0; i < 3; i++) {
        char text[8];
        snprintf(text, sizeof(text), "layer%d", i);
        assert_int_equal(digest_sha256_buffer(text, strlen(text), diff_ids[i], &err), 0);
    }
    assert_int_equal(
        image_chain_ids((const char(*)[DIGEST_STRING_SIZE])diff_ids, 3, chain_ids, &err), 0);
    assert_string_equal(chain_ids[0], diff_ids[0]);
    snprintf(joined, sizeof(joined), "%s %s", diff_ids[0], diff_ids[1]);
    digest_sha256_buffer(joined, strlen(joined), expected, &err);
    assert_string_equal(chain_ids[1], expected);
    snprintf(joined, sizeof(joined), "%s %s", chain_ids[1], diff_ids[2]);
    digest_sha256_buffer(joined, strlen(joined), expected, &err);
    assert_string_equal(chain_ids[2], expected);
}

/* ---- the walk over a hand-made multi-platform image ---- */

static void put_blob(const char *text, char digest[DIGEST_STRING_SIZE])
{
    struct berr err = {0};
    int rc = content_store_commit_buffer(fixture.content, "default", text, strlen(text), NULL, NULL,
                                         digest, &err);
    if (rc && rc != BERR_EXISTS)
        fail_msg("put blob: %s", err.message);
}

static void make_manifest(const char *architecture, const char *variant, int layer_count,
                          char manifest[DIGEST_STRING_SIZE], size_t *manifest_size,
                          char layers[][DIGEST_STRING_SIZE])
{
    char config_text[1024], manifest_text[2048], config[DIGEST_STRING_SIZE];
    size_t used;
    int i;

    for (i = 0; i < layer_count; i++) {
        char text[64];
        snprintf(text, sizeof(text), "layer %d of %s", i, architecture);
        put_blob(text, layers[i]);
    }
    used = (size_t)snprintf(config_text, sizeof(config_text),
                            "{\"architecture\":\"%s\",%s%s%s\"os\":\"linux\","
                            "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[",
                            architecture, variant ? "\"variant\":\"" : "", variant ? variant : "",
                            variant ? "\"," : "");
    for (i = 0; i < layer_count; i++)
        used += (size_t)snprintf(config_text + used, sizeof(config_text) - used, "%s\"%s\"",
                                 i ? "," : "", layers[i]);
    snprintf(config_text + used, sizeof(config_text) - used, "]}}");
    put_blob(config_text, config);
    used = (size_t)snprintf(manifest_text, sizeof(manifest_text),
                            "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
                            "\"%s\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[",
                            IMAGE_MEDIA_OCI_MANIFEST, IMAGE_MEDIA_OCI_CONFIG, config,
                            strlen(config_text));
    for (i = 0; i < layer_count; i++) {
        char text[64];
        snprintf(text, sizeof(text), "layer %d of %s", i, architecture);
        used += (size_t)snprintf(manifest_text + used, sizeof(manifest_text) - used,
                                 "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}",
                                 i ? "," : "", IMAGE_MEDIA_OCI_LAYER, layers[i], strlen(text));
    }
    snprintf(manifest_text + used, sizeof(manifest_text) - used, "]}");
    put_blob(manifest_text, manifest);
    *manifest_size = strlen(manifest_text);
}

static void walks_to_the_platform_manifest(void **state)
{
    char amd64[DIGEST_STRING_SIZE], arm64[DIGEST_STRING_SIZE], index[DIGEST_STRING_SIZE];
    char amd64_layers[2][DIGEST_STRING_SIZE], arm64_layers[3][DIGEST_STRING_SIZE];
    char index_text[2048];
    size_t amd64_size, arm64_size;
    struct image_manifest *manifest;
    struct berr err = {0};
    (void)state;

    make_manifest("amd64", NULL, 2, amd64, &amd64_size, amd64_layers);
    make_manifest("arm64", "v8", 3, arm64, &arm64_size, arm64_layers);
    /* The arm64 entry says its platform; the amd64 one leaves it to the config. */
    snprintf(index_text, sizeof(index_text),
             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":["
             "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
             "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
             "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
             IMAGE_MEDIA_OCI_INDEX, IMAGE_MEDIA_OCI_MANIFEST, arm64, arm64_size,
             IMAGE_MEDIA_OCI_MANIFEST, amd64, amd64_size);
    put_blob(index_text, index);

    assert_int_equal(image_manifest_resolve(fixture.content, "default", IMAGE_MEDIA_OCI_INDEX,
                                            index, (int64_t)strlen(index_text), "linux/arm64",
                                            &manifest, &err),
                     0);
    assert_string_equal(manifest->manifest.digest, arm64);
    assert_string_equal(manifest->platform.architecture, "arm64");
    assert_int_equal(manifest->layer_count, 3);
    assert_string_equal(manifest->layers[0].diff_id, arm64_layers[0]);
    assert_string_equal(manifest->layers[0].chain_id, arm64_layers[0]);
    assert_string_equal(manifest->layers[2].descriptor.digest, arm64_layers[2]);
    assert_string_equal(manifest->chain_id, manifest->layers[2].chain_id);
    assert_non_null(strstr(manifest->config_json, "\"arm64\""));
    image_manifest_free(manifest);

    assert_int_equal(image_manifest_resolve(fixture.content, "default", IMAGE_MEDIA_OCI_INDEX,
                                            index, 0, "linux/amd64", &manifest, &err),
                     0);
    assert_string_equal(manifest->manifest.digest, amd64);
    assert_int_equal(manifest->layer_count, 2);
    image_manifest_free(manifest);

    assert_int_equal(image_manifest_resolve(fixture.content, "default", IMAGE_MEDIA_OCI_INDEX,
                                            index, 0, "linux/s390x", &manifest, &err),
                     BERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "linux/s390x"));
    /* A plain manifest for another platform is refused too. */
    assert_int_equal(image_manifest_resolve(fixture.content, "default", IMAGE_MEDIA_OCI_MANIFEST,
                                            arm64, 0, "linux/amd64", &manifest, &err),
                     BERR_NOT_FOUND);
    /* Through a name. */
    create_image("example.com/multi:1", DIGEST_A, NULL, NULL);
    {
        Berth__Supervisor__V1__Image image = BERTH__SUPERVISOR__V1__IMAGE__INIT;
        Berth__Supervisor__V1__Descriptor target = BERTH__SUPERVISOR__V1__DESCRIPTOR__INIT;
        const char *mask[] = {"target"};
        target.media_type = IMAGE_MEDIA_OCI_INDEX;
        target.digest = index;
        image.name = "example.com/multi:1";
        image.target = &target;
        assert_int_equal(image_store_update(fixture.images, "default", &image, mask, 1, NULL, &err),
                         0);
    }
    assert_int_equal(image_store_manifest(fixture.images, "default", "example.com/multi:1",
                                          "linux/arm64/v8", &manifest, &err),
                     0);
    assert_string_equal(manifest->manifest.digest, arm64);
    image_manifest_free(manifest);
    /* Another namespace cannot walk it. */
    assert_int_equal(image_manifest_resolve(fixture.content, "other", IMAGE_MEDIA_OCI_INDEX, index,
                                            0, "linux/arm64", &manifest, &err),
                     BERR_NOT_FOUND);
}

static void refuses_inconsistent_images(void **state)
{
    char layer[DIGEST_STRING_SIZE], config[DIGEST_STRING_SIZE], manifest[DIGEST_STRING_SIZE];
    char text[1024];
    struct image_manifest *out;
    struct image_document *document;
    struct berr err = {0};
    (void)state;

    put_blob("one layer", layer);
    const char *config_text =
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"diff_ids\":[]}}";
    const char *sha512 = "{\"manifests\":[{\"digest\":\"sha512:ab\",\"size\":1}]}";
    put_blob(config_text, config);
    snprintf(text, sizeof(text),
             "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\","
             "\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":9}]}",
             IMAGE_MEDIA_OCI_CONFIG, config, strlen(config_text), IMAGE_MEDIA_OCI_LAYER, layer);
    put_blob(text, manifest);
    assert_int_equal(image_manifest_resolve(fixture.content, "default", IMAGE_MEDIA_OCI_MANIFEST,
                                            manifest, 0, "linux/amd64", &out, &err),
                     BERR_INVALID);
    assert_non_null(strstr(err.message, "diff_ids"));

    assert_int_equal(image_document_parse(NULL, "{\"schemaVersion\":1}", 19, &document, &err),
                     BERR_UNSUPPORTED);
    assert_int_equal(image_document_parse(
                         IMAGE_MEDIA_OCI_MANIFEST,
                         "{\"mediaType\":\"" IMAGE_MEDIA_OCI_INDEX "\",\"manifests\":[]}",
                         strlen("{\"mediaType\":\"" IMAGE_MEDIA_OCI_INDEX "\",\"manifests\":[]}"),
                         &document, &err),
                     BERR_INVALID);
    assert_int_equal(image_document_parse(NULL, sha512, strlen(sha512), &document, &err),
                     BERR_UNSUPPORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(creates_gets_updates_deletes, setup, teardown),
        cmocka_unit_test_setup_teardown(lists_with_filters, setup, teardown),
        cmocka_unit_test(normalizes_names_as_docker),
        cmocka_unit_test_setup_teardown(resolves_short_names, setup, teardown),
        cmocka_unit_test(matches_platforms),
        cmocka_unit_test(computes_chain_ids),
        cmocka_unit_test_setup_teardown(walks_to_the_platform_manifest, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_inconsistent_images, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

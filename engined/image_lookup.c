/*
 * image_lookup: see image_lookup.h.
 */
#include "image_lookup.h"

#include <stdlib.h>
#include <string.h>

#include "reference.h"
#include "supervisor_api.h"

static int load_config(struct rpc_client *supervisor, const char *name, struct image_found *out,
                       struct berr *err)
{
    Berth__Supervisor__V1__ImageConfigResponse *response = NULL;
    char *text;
    int rc;

    if ((rc = sv_image_config(supervisor, name, &response, err)))
        return rc;
    text = malloc(response->config_json.len + 1);
    if (!text || !response->config || !(out->id = strdup(response->config->digest)) ||
        !(out->name = strdup(name))) {
        free(text);
        berth__supervisor__v1__image_config_response__free_unpacked(response, NULL);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    memcpy(text, response->config_json.data, response->config_json.len);
    text[response->config_json.len] = '\0';
    berth__supervisor__v1__image_config_response__free_unpacked(response, NULL);
    rc = json_parse(text, &out->config_file, err);
    free(text);
    if (rc)
        return berr_prefix(err, "image %s: config", name);
    out->config = json_get(out->config_file, "config");
    if (out->config && !YAJL_IS_OBJECT(out->config))
        out->config = NULL;
    return 0;
}

/* Images whose config digest starts with hex (after "sha256:"). */
static int find_by_id(struct rpc_client *supervisor, const char *hex, struct image_found *out,
                      bool *ambiguous, struct berr *err)
{
    Berth__Supervisor__V1__ListImagesResponse *list = NULL;
    size_t length = strlen(hex);
    char *match = NULL;
    int rc;

    *ambiguous = false;
    if ((rc = sv_image_list(supervisor, &list, err)))
        return rc;
    for (size_t i = 0; i < list->n_images && !*ambiguous; i++) {
        Berth__Supervisor__V1__ImageConfigResponse *config = NULL;
        struct berr ignored;
        if (sv_image_config(supervisor, list->images[i]->name, &config, &ignored))
            continue;
        if (config->config && strncmp(config->config->digest, "sha256:", 7) == 0 &&
            strncmp(config->config->digest + 7, hex, length) == 0) {
            /* Several names of the same image are one image. */
            if (match && strcmp(match, config->config->digest) != 0)
                *ambiguous = true;
            else if (!match) {
                match = strdup(config->config->digest);
                free(out->name);
                out->name = strdup(list->images[i]->name);
            }
        }
        berth__supervisor__v1__image_config_response__free_unpacked(config, NULL);
    }
    berth__supervisor__v1__list_images_response__free_unpacked(list, NULL);
    if (!match || *ambiguous) {
        free(match);
        free(out->name);
        out->name = NULL;
        return BERR_NOT_FOUND;
    }
    free(match);
    {
        char *name = out->name;
        out->name = NULL;
        rc = load_config(supervisor, name, out, err);
        free(name);
    }
    return rc;
}

static int not_found(const char *ref, struct berr *err)
{
    struct image_reference parsed;
    char *familiar = NULL;

    if (reference_parse(ref, &parsed, NULL) == 0) {
        if (reference_default_tag(&parsed, NULL) == 0)
            familiar = reference_familiar(&parsed);
        reference_free(&parsed);
    }
    berr_set(err, BERR_NOT_FOUND, "No such image: %s", familiar ? familiar : ref);
    free(familiar);
    return BERR_NOT_FOUND;
}

int image_lookup(struct rpc_client *supervisor, const char *ref, struct image_found *out,
                 struct berr *err)
{
    struct image_reference parsed;
    Berth__Supervisor__V1__Image *image = NULL;
    const char *hex = strncmp(ref, "sha256:", 7) == 0 ? ref + 7 : ref;
    bool ambiguous = false;
    char *name;
    int rc;

    memset(out, 0, sizeof(*out));
    if (reference_is_full_id(ref)) {
        rc = find_by_id(supervisor, hex, out, &ambiguous, err);
        return rc == BERR_NOT_FOUND ? not_found(ref, err) : rc;
    }
    if ((rc = reference_parse(ref, &parsed, err)))
        return rc;
    if ((rc = reference_default_tag(&parsed, err))) {
        reference_free(&parsed);
        return rc;
    }
    name = reference_string(&parsed);
    reference_free(&parsed);
    if (!name)
        return berr_set(err, BERR_NOMEM, "out of memory");
    rc = sv_image_get(supervisor, name, &image, err);
    if (rc == 0) {
        berth__supervisor__v1__image__free_unpacked(image, NULL);
        rc = load_config(supervisor, name, out, err);
        free(name);
        return rc;
    }
    free(name);
    if (rc != BERR_NOT_FOUND)
        return rc;
    if (reference_is_id_prefix(ref)) {
        rc = find_by_id(supervisor, hex, out, &ambiguous, err);
        if (rc != BERR_NOT_FOUND)
            return rc;
    }
    return not_found(ref, err);
}

void image_found_free(struct image_found *image)
{
    free(image->name);
    free(image->id);
    yajl_tree_free(image->config_file);
    memset(image, 0, sizeof(*image));
}

int image_lookup_id(struct rpc_client *supervisor, const char *ref, char **id, struct berr *err)
{
    struct image_found found;
    int rc = image_lookup(supervisor, ref, &found, err);

    if (rc)
        return rc;
    *id = found.id;
    found.id = NULL;
    image_found_free(&found);
    return 0;
}

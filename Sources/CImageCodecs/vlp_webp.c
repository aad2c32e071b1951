/* WebP decoding through libwebp (still images; an animation decodes its first frame). */
#include <string.h>
#include <webp/decode.h>
#include "vlp_codec_internal.h"

static int status_error(VP8StatusCode status, char *err, size_t errcap) {
    switch (status) {
    case VP8_STATUS_NOT_ENOUGH_DATA:
        return vlp_fail(VLP_ERR_TRUNCATED, err, errcap, "truncated WebP: not enough data");
    case VP8_STATUS_OUT_OF_MEMORY:
        return vlp_fail(VLP_ERR_NO_MEMORY, err, errcap, "WebP: out of memory");
    case VP8_STATUS_UNSUPPORTED_FEATURE:
        return vlp_fail(VLP_ERR_UNSUPPORTED, err, errcap, "WebP: unsupported feature");
    default:
        return vlp_fail(VLP_ERR_CORRUPT, err, errcap, "corrupt WebP (libwebp status %d)", (int)status);
    }
}

int vlp_webp_probe(const uint8_t *data, size_t n, const vlp_decode_options *options,
                   vlp_image_info *info, char *err, size_t errcap) {
    WebPBitstreamFeatures features;
    VP8StatusCode status = WebPGetFeatures(data, n, &features);
    if (status != VP8_STATUS_OK) return status_error(status, err, errcap);
    int rc = vlp_check_dimensions(features.width, features.height, options, err, errcap);
    if (rc != VLP_OK) return rc;
    info->source_width = info->width = features.width;
    info->source_height = info->height = features.height;
    info->components = features.has_alpha ? 4 : 3;
    return VLP_OK;
}

int vlp_webp_decode(const uint8_t *data, size_t n, const vlp_decode_options *options,
                    uint8_t *out, size_t outcap, vlp_image_info *info, char *err, size_t errcap) {
    int rc = vlp_webp_probe(data, n, options, info, err, errcap);
    if (rc != VLP_OK) return rc;
    size_t width = (size_t)info->width, height = (size_t)info->height;
    if (outcap < width * height * 3)
        return vlp_fail(VLP_ERR_BUFFER, err, errcap, "output buffer of %zu bytes for %zu×%zu RGB",
                        outcap, width, height);
    WebPDecoderConfig config;
    if (!WebPInitDecoderConfig(&config))
        return vlp_fail(VLP_ERR_UNSUPPORTED, err, errcap, "libwebp ABI mismatch");
    config.output.colorspace = MODE_RGB;   /* alpha dropped, as convert("RGB") does */
    config.output.is_external_memory = 1;
    config.output.u.RGBA.rgba = out;
    config.output.u.RGBA.stride = (int)(width * 3);
    config.output.u.RGBA.size = width * height * 3;
    VP8StatusCode status = WebPDecode(data, n, &config);
    WebPFreeDecBuffer(&config.output);
    if (status != VP8_STATUS_OK) return status_error(status, err, errcap);
    return VLP_OK;
}

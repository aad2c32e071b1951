/* Format sniffing, dispatch and the shared error helpers. */
#include <string.h>
#include "vlp_codec_internal.h"

int vlp_fail(int code, char *err, size_t errcap, const char *fmt, ...) {
    if (err != NULL && errcap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errcap, fmt, ap);
        va_end(ap);
    }
    return code;
}

int vlp_check_dimensions(long width, long height, const vlp_decode_options *options,
                         char *err, size_t errcap) {
    if (width <= 0 || height <= 0)
        return vlp_fail(VLP_ERR_CORRUPT, err, errcap, "invalid image size %ld×%ld", width, height);
    uint64_t limit = (options && options->max_pixels) ? options->max_pixels : VLP_DEFAULT_MAX_PIXELS;
    uint64_t pixels = (uint64_t)width * (uint64_t)height;
    if (pixels > limit || pixels > (uint64_t)(SIZE_MAX / 4))
        return vlp_fail(VLP_ERR_TOO_LARGE, err, errcap,
                        "image of %ld×%ld pixels exceeds the limit of %llu pixels",
                        width, height, (unsigned long long)limit);
    return VLP_OK;
}

vlp_image_format vlp_image_sniff(const uint8_t *data, size_t n) {
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (data == NULL) return VLP_FORMAT_UNKNOWN;
    if (n >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return VLP_FORMAT_JPEG;
    if (n >= 8 && memcmp(data, png_sig, 8) == 0) return VLP_FORMAT_PNG;
    if (n >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
        return VLP_FORMAT_WEBP;
    return VLP_FORMAT_UNKNOWN;
}

/* Whether all n bytes match the start of a known signature (n shorter than the signature). */
static int is_signature_prefix(const uint8_t *data, size_t n) {
    static const uint8_t jpeg[3] = {0xFF, 0xD8, 0xFF};
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (n < sizeof jpeg && memcmp(data, jpeg, n) == 0) return 1;
    if (n < sizeof png && memcmp(data, png, n) == 0) return 1;
    if (n < 12 && memcmp(data, "RIFF", n < 4 ? n : 4) == 0) return 1;
    return 0;
}

static int check_input(const uint8_t *data, size_t n, vlp_image_info *info, char *err,
                       size_t errcap, vlp_image_format *format) {
    if (info == NULL) return vlp_fail(VLP_ERR_ARGUMENT, err, errcap, "no info struct given");
    memset(info, 0, sizeof *info);
    if (n == 0) return vlp_fail(VLP_ERR_EMPTY, err, errcap, "zero-byte input");
    if (data == NULL) return vlp_fail(VLP_ERR_ARGUMENT, err, errcap, "null data pointer");
    *format = vlp_image_sniff(data, n);
    if (*format == VLP_FORMAT_UNKNOWN) {
        if (is_signature_prefix(data, n)) /* a cut-off header reads as truncated */
            return vlp_fail(VLP_ERR_TRUNCATED, err, errcap,
                            "only %zu bytes: the header is cut off", n);
        return vlp_fail(VLP_ERR_UNKNOWN_FORMAT, err, errcap,
                        "unknown image format (first bytes %02X %02X %02X %02X)",
                        data[0], n > 1 ? data[1] : 0, n > 2 ? data[2] : 0, n > 3 ? data[3] : 0);
    }
    info->format = *format;
    info->scale_denom = 1;
    info->orientation = 1;
    return VLP_OK;
}

int vlp_image_probe(const uint8_t *data, size_t n, const vlp_decode_options *options,
                    vlp_image_info *info, char *err, size_t errcap) {
    vlp_image_format format;
    int rc = check_input(data, n, info, err, errcap, &format);
    if (rc != VLP_OK) return rc;
    switch (format) {
    case VLP_FORMAT_JPEG: return vlp_jpeg_probe(data, n, options, info, err, errcap);
    case VLP_FORMAT_PNG: return vlp_png_probe(data, n, options, info, err, errcap);
    case VLP_FORMAT_WEBP: return vlp_webp_probe(data, n, options, info, err, errcap);
    default: return vlp_fail(VLP_ERR_UNKNOWN_FORMAT, err, errcap, "unknown image format");
    }
}

int vlp_image_decode_rgb(const uint8_t *data, size_t n, const vlp_decode_options *options,
                         uint8_t *out, size_t outcap, vlp_image_info *info,
                         char *err, size_t errcap) {
    vlp_image_format format;
    int rc = check_input(data, n, info, err, errcap, &format);
    if (rc != VLP_OK) return rc;
    if (out == NULL) return vlp_fail(VLP_ERR_ARGUMENT, err, errcap, "null output buffer");
    switch (format) {
    case VLP_FORMAT_JPEG: return vlp_jpeg_decode(data, n, options, out, outcap, info, err, errcap);
    case VLP_FORMAT_PNG: return vlp_png_decode(data, n, options, out, outcap, info, err, errcap);
    case VLP_FORMAT_WEBP: return vlp_webp_decode(data, n, options, out, outcap, info, err, errcap);
    default: return vlp_fail(VLP_ERR_UNKNOWN_FORMAT, err, errcap, "unknown image format");
    }
}

const char *vlp_codec_error_name(int code) {
    switch (code) {
    case VLP_OK: return "ok";
    case VLP_ERR_ARGUMENT: return "invalid argument";
    case VLP_ERR_EMPTY: return "zero-byte input";
    case VLP_ERR_UNKNOWN_FORMAT: return "unknown format";
    case VLP_ERR_TRUNCATED: return "truncated";
    case VLP_ERR_CORRUPT: return "corrupt";
    case VLP_ERR_UNSUPPORTED: return "unsupported";
    case VLP_ERR_TOO_LARGE: return "too large";
    case VLP_ERR_NO_MEMORY: return "out of memory";
    case VLP_ERR_BUFFER: return "output buffer too small";
    default: return "unknown error";
    }
}

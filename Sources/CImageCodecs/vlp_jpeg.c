/* JPEG decoding through libjpeg-turbo's libjpeg API (DCT-domain scaling, CMYK/YCCK) and
   encoding through its TurboJPEG API. libjpeg's fatal errors longjmp back into the function
   that set the jump buffer, never further. */
#include <setjmp.h>
#include <stdio.h>   /* jpeglib.h needs FILE */
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include <turbojpeg.h>
#include "vlp_codec_internal.h"

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    int truncated;              /* libjpeg warned that the data ended early */
    char message[JMSG_LENGTH_MAX];
} vlp_jpeg_error;

static void on_error_exit(j_common_ptr cinfo) {
    vlp_jpeg_error *e = (vlp_jpeg_error *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->message);
    longjmp(e->jump, 1);
}

static void on_emit_message(j_common_ptr cinfo, int level) {
    vlp_jpeg_error *e = (vlp_jpeg_error *)cinfo->err;
    /* Warnings (level -1) are ignored as Pillow does, except a premature end of data, which
       Pillow reports as a truncated file: stop decoding right here. */
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        e->truncated = 1;
        (*cinfo->err->format_message)(cinfo, e->message);
        longjmp(e->jump, 1);
    }
}

static void on_output_message(j_common_ptr cinfo) { (void)cinfo; }

/* The largest of 8, 4, 2 (else 1) that keeps the scaled size >= the minimum asked for. */
static int choose_scale(int width, int height, const vlp_decode_options *options) {
    if (options == NULL || (options->min_width <= 0 && options->min_height <= 0)) return 1;
    for (int s = 8; s > 1; s /= 2) {
        int w = (width + s - 1) / s, h = (height + s - 1) / s;
        if (w >= options->min_width && h >= options->min_height) return s;
    }
    return 1;
}

/* Reads the header and sets up output parameters; called with the jump buffer armed. */
static int setup(struct jpeg_decompress_struct *cinfo, const uint8_t *data, size_t n,
                 const vlp_decode_options *options, vlp_image_info *info, char *err, size_t errcap) {
    jpeg_mem_src(cinfo, data, (unsigned long)n);
    if (jpeg_read_header(cinfo, TRUE) != JPEG_HEADER_OK)
        return vlp_fail(VLP_ERR_CORRUPT, err, errcap, "no JPEG image in the data");
    if (cinfo->data_precision != 8)
        return vlp_fail(VLP_ERR_UNSUPPORTED, err, errcap, "%d-bit JPEG samples are not supported",
                        cinfo->data_precision);
    int rc = vlp_check_dimensions((long)cinfo->image_width, (long)cinfo->image_height, options, err, errcap);
    if (rc != VLP_OK) return rc;
    info->source_width = (int)cinfo->image_width;
    info->source_height = (int)cinfo->image_height;
    info->components = cinfo->num_components;
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE: case JCS_YCbCr: case JCS_RGB:
        cinfo->out_color_space = JCS_RGB;
        break;
    case JCS_CMYK: case JCS_YCCK:
        cinfo->out_color_space = JCS_CMYK;
        info->is_cmyk = 1;
        break;
    default:
        return vlp_fail(VLP_ERR_UNSUPPORTED, err, errcap, "JPEG colour space %d with %d components is not supported",
                        (int)cinfo->jpeg_color_space, cinfo->num_components);
    }
    int s = choose_scale(info->source_width, info->source_height, options);
    cinfo->scale_num = 1;
    cinfo->scale_denom = (unsigned)s;
    cinfo->dct_method = JDCT_ISLOW;   /* libjpeg's and Pillow's default: exact integer IDCT */
    jpeg_calc_output_dimensions(cinfo);
    info->scale_denom = s;
    info->width = (int)cinfo->output_width;
    info->height = (int)cinfo->output_height;
    info->orientation = vlp_jpeg_exif_orientation(data, n);
    return VLP_OK;
}

static int fail_from(vlp_jpeg_error *e, char *err, size_t errcap) {
    if (e->truncated) return vlp_fail(VLP_ERR_TRUNCATED, err, errcap, "truncated JPEG: %s", e->message);
    return vlp_fail(VLP_ERR_CORRUPT, err, errcap, "corrupt JPEG: %s", e->message);
}

static void install_errors(struct jpeg_decompress_struct *cinfo, vlp_jpeg_error *e) {
    memset(e, 0, sizeof *e);
    cinfo->err = jpeg_std_error(&e->base);
    e->base.error_exit = on_error_exit;
    e->base.emit_message = on_emit_message;
    e->base.output_message = on_output_message;
}

int vlp_jpeg_probe(const uint8_t *data, size_t n, const vlp_decode_options *options,
                   vlp_image_info *info, char *err, size_t errcap) {
    struct jpeg_decompress_struct cinfo;
    vlp_jpeg_error e;
    install_errors(&cinfo, &e);
    if (setjmp(e.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return fail_from(&e, err, errcap);
    }
    jpeg_create_decompress(&cinfo);
    int rc = setup(&cinfo, data, n, options, info, err, errcap);
    jpeg_destroy_decompress(&cinfo);
    return rc;
}

/* Pillow's CMYK;I unpack (invert) followed by its cmyk2rgb. */
static inline uint8_t muldiv255(int a, int b) {
    int t = a * b + 128;
    return (uint8_t)(((t >> 8) + t) >> 8);
}

static void inverted_cmyk_to_rgb(const uint8_t *in, uint8_t *out, size_t width) {
    for (size_t x = 0; x < width; x++, in += 4, out += 3) {
        int nk = in[3];                       /* 255 - K, with K = 255 - stored */
        for (int c = 0; c < 3; c++) {
            int v = nk - muldiv255(255 - in[c], nk);
            out[c] = (uint8_t)(v < 0 ? 0 : v);
        }
    }
}

int vlp_jpeg_decode(const uint8_t *data, size_t n, const vlp_decode_options *options,
                    uint8_t *out, size_t outcap, vlp_image_info *info, char *err, size_t errcap) {
    struct jpeg_decompress_struct cinfo;
    vlp_jpeg_error e;
    uint8_t *volatile cmyk_row = NULL;
    install_errors(&cinfo, &e);
    if (setjmp(e.jump)) {
        free(cmyk_row);
        jpeg_destroy_decompress(&cinfo);
        return fail_from(&e, err, errcap);
    }
    jpeg_create_decompress(&cinfo);
    int rc = setup(&cinfo, data, n, options, info, err, errcap);
    if (rc != VLP_OK) {
        jpeg_destroy_decompress(&cinfo);
        return rc;
    }
    size_t width = (size_t)info->width, height = (size_t)info->height;
    if (outcap < width * height * 3) {
        jpeg_destroy_decompress(&cinfo);
        return vlp_fail(VLP_ERR_BUFFER, err, errcap, "output buffer of %zu bytes for %zu×%zu RGB",
                        outcap, width, height);
    }
    if (info->is_cmyk) {
        cmyk_row = malloc(width * 4);
        if (cmyk_row == NULL) {
            jpeg_destroy_decompress(&cinfo);
            return vlp_fail(VLP_ERR_NO_MEMORY, err, errcap, "no memory for a %zu-pixel row", width);
        }
    }
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_width != width || cinfo.output_height != height) {
        free(cmyk_row);
        jpeg_destroy_decompress(&cinfo);
        return vlp_fail(VLP_ERR_CORRUPT, err, errcap, "JPEG output size changed during decoding");
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *row = out + (size_t)cinfo.output_scanline * width * 3;
        JSAMPROW target = info->is_cmyk ? cmyk_row : row;
        if (jpeg_read_scanlines(&cinfo, &target, 1) != 1) {
            free(cmyk_row);
            jpeg_destroy_decompress(&cinfo);
            return vlp_fail(VLP_ERR_TRUNCATED, err, errcap, "truncated JPEG: no more scanlines");
        }
        if (info->is_cmyk) inverted_cmyk_to_rgb(cmyk_row, row, width);
    }
    /* The image is complete; a missing EOI after it is not worth failing for. */
    free(cmyk_row);
    cmyk_row = NULL;
    jpeg_destroy_decompress(&cinfo);
    return VLP_OK;
}

int vlp_jpeg_encode_rgb(const uint8_t *rgb, int width, int height, int quality, int subsampling,
                        uint8_t **out, size_t *outn, char *err, size_t errcap) {
    if (rgb == NULL || out == NULL || outn == NULL || width <= 0 || height <= 0)
        return vlp_fail(VLP_ERR_ARGUMENT, err, errcap, "invalid arguments to the JPEG encoder");
    if (quality < 1 || quality > 100)
        return vlp_fail(VLP_ERR_ARGUMENT, err, errcap, "JPEG quality %d is outside 1…100", quality);
    int samp;
    switch (subsampling) {
    case 444: samp = TJSAMP_444; break;
    case 422: samp = TJSAMP_422; break;
    case 420: samp = TJSAMP_420; break;
    default: return vlp_fail(VLP_ERR_ARGUMENT, err, errcap, "unknown chroma subsampling %d", subsampling);
    }
    *out = NULL;
    *outn = 0;
    unsigned long cap = tjBufSize(width, height, samp);
    if (cap == (unsigned long)-1)
        return vlp_fail(VLP_ERR_TOO_LARGE, err, errcap, "image of %d×%d is too large to encode", width, height);
    unsigned char *buffer = malloc(cap);
    if (buffer == NULL) return vlp_fail(VLP_ERR_NO_MEMORY, err, errcap, "no memory for %lu bytes", cap);
    tjhandle tj = tjInitCompress();
    if (tj == NULL) {
        free(buffer);
        return vlp_fail(VLP_ERR_NO_MEMORY, err, errcap, "tjInitCompress: %s", tjGetErrorStr2(NULL));
    }
    unsigned long size = cap;
    if (tjCompress2(tj, rgb, width, width * 3, height, TJPF_RGB, &buffer, &size, samp, quality,
                    TJFLAG_NOREALLOC | TJFLAG_ACCURATEDCT) != 0) {
        int rc = vlp_fail(VLP_ERR_CORRUPT, err, errcap, "JPEG encoding failed: %s", tjGetErrorStr2(tj));
        tjDestroy(tj);
        free(buffer);
        return rc;
    }
    tjDestroy(tj);
    *out = buffer;
    *outn = (size_t)size;
    return VLP_OK;
}

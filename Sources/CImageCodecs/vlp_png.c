/* PNG decoding and encoding through libpng. libpng errors longjmp back into the function that
   armed png_jmpbuf, never further. Conversions follow Pillow's convert("RGB"). */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>
#include "vlp_codec_internal.h"

typedef struct {
    const uint8_t *data;
    size_t n;
    size_t at;
    int truncated;
    char message[200];
} vlp_png_reader;

static void on_read(png_structp png, png_bytep dest, size_t count) {
    vlp_png_reader *r = (vlp_png_reader *)png_get_io_ptr(png);
    if (count > r->n - r->at) {
        r->truncated = 1;
        png_error(png, "the data ends before the image does");
    }
    memcpy(dest, r->data + r->at, count);
    r->at += count;
}

static void on_error(png_structp png, png_const_charp message) {
    vlp_png_reader *r = (vlp_png_reader *)png_get_error_ptr(png);
    snprintf(r->message, sizeof r->message, "%s", message);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp message) { (void)png; (void)message; }

static int fail_from(const vlp_png_reader *r, char *err, size_t errcap) {
    if (r->truncated) return vlp_fail(VLP_ERR_TRUNCATED, err, errcap, "truncated PNG: %s", r->message);
    return vlp_fail(VLP_ERR_CORRUPT, err, errcap, "corrupt PNG: %s", r->message);
}

/* Reads the header and arms the transformations to 8-bit RGB; called under setjmp. */
static int setup(png_structp png, png_infop pinfo, const vlp_decode_options *options,
                 vlp_image_info *info, char *err, size_t errcap) {
    png_read_info(png, pinfo);
    png_uint_32 width = png_get_image_width(png, pinfo), height = png_get_image_height(png, pinfo);
    int rc = vlp_check_dimensions((long)width, (long)height, options, err, errcap);
    if (rc != VLP_OK) return rc;
    int color = png_get_color_type(png, pinfo), depth = png_get_bit_depth(png, pinfo);
    info->source_width = info->width = (int)width;
    info->source_height = info->height = (int)height;
    info->components = png_get_channels(png, pinfo);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);   /* tRNS stays unused */
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_strip_16(png);                             /* keep the high byte */
    /* Unconditionally: expanding a palette with a tRNS chunk yields RGBA rows, which this strips
       too (it acts only on rows that carry alpha). */
    png_set_strip_alpha(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, pinfo);
    if (png_get_rowbytes(png, pinfo) != (size_t)width * 3)
        return vlp_fail(VLP_ERR_UNSUPPORTED, err, errcap,
                        "PNG colour type %d at depth %d did not convert to RGB", color, depth);
    return VLP_OK;
}

static int run(const uint8_t *data, size_t n, const vlp_decode_options *options, uint8_t *out,
               size_t outcap, vlp_image_info *info, char *err, size_t errcap) {
    vlp_png_reader reader = {.data = data, .n = n, .at = 0, .truncated = 0, .message = ""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader, on_error, on_warning);
    if (png == NULL) return vlp_fail(VLP_ERR_NO_MEMORY, err, errcap, "png_create_read_struct failed");
    png_infop pinfo = png_create_info_struct(png);
    if (pinfo == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        return vlp_fail(VLP_ERR_NO_MEMORY, err, errcap, "png_create_info_struct failed");
    }
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        png_destroy_read_struct(&png, &pinfo, NULL);
        return fail_from(&reader, err, errcap);
    }
    png_set_read_fn(png, &reader, on_read);
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);   /* our own pixel limit applies below */
    int rc = setup(png, pinfo, options, info, err, errcap);
    if (rc == VLP_OK && out != NULL) {
        size_t width = (size_t)info->width, height = (size_t)info->height;
        if (outcap < width * height * 3) {
            rc = vlp_fail(VLP_ERR_BUFFER, err, errcap, "output buffer of %zu bytes for %zu×%zu RGB",
                          outcap, width, height);
        } else if ((rows = malloc(height * sizeof(png_bytep))) == NULL) {
            rc = vlp_fail(VLP_ERR_NO_MEMORY, err, errcap, "no memory for %zu row pointers", height);
        } else {
            for (size_t y = 0; y < height; y++) rows[y] = out + y * width * 3;
            png_read_image(png, rows);
        }
    }
    free(rows);
    rows = NULL;
    png_destroy_read_struct(&png, &pinfo, NULL);
    return rc;
}

int vlp_png_probe(const uint8_t *data, size_t n, const vlp_decode_options *options,
                  vlp_image_info *info, char *err, size_t errcap) {
    return run(data, n, options, NULL, 0, info, err, errcap);
}

int vlp_png_decode(const uint8_t *data, size_t n, const vlp_decode_options *options,
                   uint8_t *out, size_t outcap, vlp_image_info *info, char *err, size_t errcap) {
    return run(data, n, options, out, outcap, info, err, errcap);
}

/* ---- encoding ---- */

typedef struct {
    uint8_t *data;
    size_t n;
    size_t cap;
    int out_of_memory;
    char message[200];
} vlp_png_writer;

static void on_write(png_structp png, png_bytep src, size_t count) {
    vlp_png_writer *w = (vlp_png_writer *)png_get_io_ptr(png);
    if (count > w->cap - w->n) {
        size_t cap = w->cap ? w->cap : 4096;
        while (count > cap - w->n) {
            if (cap > SIZE_MAX / 2) { w->out_of_memory = 1; png_error(png, "output too large"); }
            cap *= 2;
        }
        uint8_t *grown = realloc(w->data, cap);
        if (grown == NULL) { w->out_of_memory = 1; png_error(png, "out of memory"); }
        w->data = grown;
        w->cap = cap;
    }
    memcpy(w->data + w->n, src, count);
    w->n += count;
}

static void on_flush(png_structp png) { (void)png; }

static void on_write_error(png_structp png, png_const_charp message) {
    vlp_png_writer *w = (vlp_png_writer *)png_get_error_ptr(png);
    snprintf(w->message, sizeof w->message, "%s", message);
    png_longjmp(png, 1);
}

int vlp_png_encode_rgb(const uint8_t *rgb, int width, int height, int compression_level,
                       uint8_t **out, size_t *outn, char *err, size_t errcap) {
    if (rgb == NULL || out == NULL || outn == NULL || width <= 0 || height <= 0)
        return vlp_fail(VLP_ERR_ARGUMENT, err, errcap, "invalid arguments to the PNG encoder");
    if (compression_level < 0 || compression_level > 9)
        return vlp_fail(VLP_ERR_ARGUMENT, err, errcap, "PNG compression level %d is outside 0…9",
                        compression_level);
    *out = NULL;
    *outn = 0;
    vlp_png_writer writer = {.data = NULL, .n = 0, .cap = 0, .out_of_memory = 0, .message = ""};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &writer, on_write_error, on_warning);
    if (png == NULL) return vlp_fail(VLP_ERR_NO_MEMORY, err, errcap, "png_create_write_struct failed");
    png_infop pinfo = png_create_info_struct(png);
    if (pinfo == NULL) {
        png_destroy_write_struct(&png, NULL);
        return vlp_fail(VLP_ERR_NO_MEMORY, err, errcap, "png_create_info_struct failed");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &pinfo);
        free(writer.data);
        return vlp_fail(writer.out_of_memory ? VLP_ERR_NO_MEMORY : VLP_ERR_CORRUPT, err, errcap,
                        "PNG encoding failed: %s", writer.message);
    }
    png_set_write_fn(png, &writer, on_write, on_flush);
    png_set_compression_level(png, compression_level);
    png_set_IHDR(png, pinfo, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, pinfo);
    for (int y = 0; y < height; y++)
        png_write_row(png, (png_const_bytep)(rgb + (size_t)y * (size_t)width * 3));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &pinfo);
    *out = writer.data;
    *outn = writer.n;
    return VLP_OK;
}

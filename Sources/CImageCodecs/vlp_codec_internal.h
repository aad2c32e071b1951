/* Helpers shared by the codec files; not part of the public header. */
#ifndef VLP_CODEC_INTERNAL_H
#define VLP_CODEC_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>
#include "include/vlp_image_codecs.h"

/* Formats a message into err (bounded, always NUL-terminated when errcap > 0); returns code. */
int vlp_fail(int code, char *err, size_t errcap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Checks width × height against the options' limit and that w*h*3 fits in size_t. */
int vlp_check_dimensions(long width, long height, const vlp_decode_options *options,
                         char *err, size_t errcap);

int vlp_jpeg_probe(const uint8_t *data, size_t n, const vlp_decode_options *options,
                   vlp_image_info *info, char *err, size_t errcap);
int vlp_jpeg_decode(const uint8_t *data, size_t n, const vlp_decode_options *options,
                    uint8_t *out, size_t outcap, vlp_image_info *info, char *err, size_t errcap);
int vlp_png_probe(const uint8_t *data, size_t n, const vlp_decode_options *options,
                  vlp_image_info *info, char *err, size_t errcap);
int vlp_png_decode(const uint8_t *data, size_t n, const vlp_decode_options *options,
                   uint8_t *out, size_t outcap, vlp_image_info *info, char *err, size_t errcap);
int vlp_webp_probe(const uint8_t *data, size_t n, const vlp_decode_options *options,
                   vlp_image_info *info, char *err, size_t errcap);
int vlp_webp_decode(const uint8_t *data, size_t n, const vlp_decode_options *options,
                    uint8_t *out, size_t outcap, vlp_image_info *info, char *err, size_t errcap);

#endif

/*
 * CImageCodecs — a small C layer over libjpeg-turbo, libpng, libwebp and zlib.
 *
 * Conventions (every function):
 *   - returns VLP_OK (0) on success, a negative VLP_ERR_* code otherwise;
 *   - on failure writes a NUL-terminated message of at most errcap bytes into err
 *     (err may be NULL when errcap is 0);
 *   - never aborts, never exits, never longjmps out of this library: libjpeg and libpng
 *     errors are caught with setjmp/longjmp inside the C function that called them.
 * Buffers returned through `uint8_t **out` are allocated with malloc; free them with free().
 */
#ifndef VLP_IMAGE_CODECS_H
#define VLP_IMAGE_CODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    VLP_OK = 0,
    VLP_ERR_ARGUMENT = -1,    /* invalid arguments (null pointer, zero size, bad quality) */
    VLP_ERR_EMPTY = -2,       /* zero-byte input */
    VLP_ERR_UNKNOWN_FORMAT = -3,
    VLP_ERR_TRUNCATED = -4,   /* the data ends before the image does */
    VLP_ERR_CORRUPT = -5,     /* the codec rejected the data */
    VLP_ERR_UNSUPPORTED = -6, /* valid but not handled (e.g. a 12-bit JPEG) */
    VLP_ERR_TOO_LARGE = -7,   /* more pixels than max_pixels / size arithmetic overflow */
    VLP_ERR_NO_MEMORY = -8,
    VLP_ERR_BUFFER = -9,      /* the caller's output buffer is too small */
};

typedef enum {
    VLP_FORMAT_UNKNOWN = 0,
    VLP_FORMAT_JPEG = 1,
    VLP_FORMAT_PNG = 2,
    VLP_FORMAT_WEBP = 3,
} vlp_image_format;

/* The format named by the first bytes of data (JPEG FF D8 FF, PNG signature, RIFF....WEBP). */
vlp_image_format vlp_image_sniff(const uint8_t *data, size_t n);

typedef struct {
    /* JPEG only: the decoder may use DCT-domain downscaling by 1/2, 1/4 or 1/8 as long as the
       decoded width stays >= min_width and the decoded height >= min_height. 0 disables. */
    int min_width;
    int min_height;
    /* Images with more pixels (source width × height) are refused with VLP_ERR_TOO_LARGE.
       0 means the default, VLP_DEFAULT_MAX_PIXELS (Pillow's decompression-bomb error limit). */
    uint64_t max_pixels;
} vlp_decode_options;

#define VLP_DEFAULT_MAX_PIXELS 178956970ull

typedef struct {
    vlp_image_format format;
    int source_width;   /* as stored in the file */
    int source_height;
    int width;          /* of the decoded RGB buffer (after DCT scaling, before orientation) */
    int height;
    int scale_denom;    /* 1, 2, 4 or 8: the DCT scaling used (JPEG), else 1 */
    int orientation;    /* EXIF orientation 1…8 from a JPEG APP1 segment; 1 when absent */
    int components;     /* channels stored in the file: 1 gray, 2 gray+alpha, 3 RGB/YCbCr, 4 RGBA/CMYK */
    int is_cmyk;        /* JPEG stored as CMYK or YCCK */
} vlp_image_info;

/* Reads the headers only and fills info with what vlp_image_decode_rgb would produce. */
int vlp_image_probe(const uint8_t *data, size_t n, const vlp_decode_options *options,
                    vlp_image_info *info, char *err, size_t errcap);

/* Decodes to 8-bit RGB, row-major HWC, into out (at least info.width*info.height*3 bytes as
   reported by vlp_image_probe with the same options). Conversions follow Pillow's
   convert("RGB"): alpha is dropped, gray is replicated, palettes are expanded, 16-bit samples
   keep their high byte, CMYK/YCCK is converted (Adobe-inverted CMYK as Pillow does).
   EXIF orientation is reported in info, not applied. */
int vlp_image_decode_rgb(const uint8_t *data, size_t n, const vlp_decode_options *options,
                         uint8_t *out, size_t outcap, vlp_image_info *info,
                         char *err, size_t errcap);

/* The EXIF orientation (1…8) of a JPEG, from its APP1 "Exif" segment; 1 when absent. */
int vlp_jpeg_exif_orientation(const uint8_t *data, size_t n);
/* The orientation tag in a TIFF-structured EXIF block (after the "Exif\0\0" header); 1 if none. */
int vlp_exif_orientation_from_tiff(const uint8_t *tiff, size_t n);

/* Encoders for 8-bit RGB (row-major HWC, stride = width*3). */
int vlp_png_encode_rgb(const uint8_t *rgb, int width, int height, int compression_level,
                       uint8_t **out, size_t *outn, char *err, size_t errcap);
/* quality 1…100; subsampling 444, 422 or 420. */
int vlp_jpeg_encode_rgb(const uint8_t *rgb, int width, int height, int quality, int subsampling,
                        uint8_t **out, size_t *outn, char *err, size_t errcap);

/* Decompresses gzip data (one or more concatenated members; zero padding after the last
   member is ignored). *out is malloc'ed (free with free()); returns 0 on success. */
int vlp_gunzip(const uint8_t *in, size_t n, size_t max_out, uint8_t **out, size_t *outn, char *err, size_t errcap);

/* A short text for an error code ("truncated", "corrupt", ...). */
const char *vlp_codec_error_name(int code);

#ifdef __cplusplus
}
#endif

#endif

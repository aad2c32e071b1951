/* EXIF orientation: found in a JPEG's APP1 "Exif\0\0" segment, tag 0x0112 of IFD0. */
#include <string.h>
#include "vlp_codec_internal.h"

static unsigned read16(const uint8_t *p, int little) {
    return little ? (unsigned)p[0] | ((unsigned)p[1] << 8) : ((unsigned)p[0] << 8) | (unsigned)p[1];
}

static uint32_t read32(const uint8_t *p, int little) {
    return little ? (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24)
                  : ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

int vlp_exif_orientation_from_tiff(const uint8_t *tiff, size_t n) {
    if (tiff == NULL || n < 8) return 1;
    int little;
    if (tiff[0] == 'I' && tiff[1] == 'I') little = 1;
    else if (tiff[0] == 'M' && tiff[1] == 'M') little = 0;
    else return 1;
    if (read16(tiff + 2, little) != 42) return 1;
    uint32_t ifd = read32(tiff + 4, little);
    if (ifd > n || n - ifd < 2) return 1;
    unsigned count = read16(tiff + ifd, little);
    size_t entries = (size_t)ifd + 2;
    for (unsigned i = 0; i < count; i++) {
        size_t at = entries + (size_t)i * 12;
        if (at > n || n - at < 12) return 1;
        if (read16(tiff + at, little) != 0x0112) continue;
        unsigned type = read16(tiff + at + 2, little);
        unsigned value;
        if (type == 3) value = read16(tiff + at + 8, little);        /* SHORT */
        else if (type == 4) value = read32(tiff + at + 8, little);   /* LONG, seen in the wild */
        else return 1;
        return (value >= 1 && value <= 8) ? (int)value : 1;
    }
    return 1;
}

int vlp_jpeg_exif_orientation(const uint8_t *data, size_t n) {
    if (data == NULL || n < 4 || data[0] != 0xFF || data[1] != 0xD8) return 1;
    size_t at = 2;
    while (at + 4 <= n) {
        if (data[at] != 0xFF) return 1;            /* not at a marker: give up quietly */
        while (at < n && data[at] == 0xFF) at++;   /* fill bytes */
        if (at >= n) return 1;
        uint8_t marker = data[at++];
        if (marker == 0xD9 || marker == 0xDA) return 1;        /* EOI / start of scan */
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue; /* no length */
        if (at + 2 > n) return 1;
        size_t length = ((size_t)data[at] << 8) | data[at + 1];
        if (length < 2 || at + length > n) return 1;
        const uint8_t *payload = data + at + 2;
        size_t payload_n = length - 2;
        if (marker == 0xE1 && payload_n >= 6 && memcmp(payload, "Exif\0\0", 6) == 0)
            return vlp_exif_orientation_from_tiff(payload + 6, payload_n - 6);
        at += length;
    }
    return 1;
}

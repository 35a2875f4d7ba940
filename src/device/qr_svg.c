/* QR codes drawn server-side (libqrencode) as SVG: an authenticator app's otpauth:// URI,
 * Thunderbird for Android's account. No script or third party ever sees the secret; the
 * SVG is one allocation, sized first, for the caller to wipe. */
#include "device/device.h"

#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *kunci_qr_svg(const char *text)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (qr == NULL)
        return NULL;
    int w = qr->width, quiet = 4, size = w + 2 * quiet;
    /* One path of unit squares: small and crisp at any zoom. */
    size_t cap = (size_t)w * (size_t)w * 16 + 512, used = 0;
    char *svg = malloc(cap);
    if (svg != NULL) {
        used += (size_t)snprintf(svg, cap,
                                 "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                                 "shape-rendering=\"crispEdges\" role=\"img\">"
                                 "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path d=\"",
                                 size, size, size, size);
        for (int y = 0; y < w; y++)
            for (int x = 0; x < w; x++)
                if (qr->data[y * w + x] & 1)
                    used += (size_t)snprintf(svg + used, cap - used, "M%d %dh1v1h-1z", x + quiet,
                                             y + quiet);
        snprintf(svg + used, cap - used, "\" fill=\"#000\"/></svg>");
    }
    QRcode_free(qr);
    return svg;
}

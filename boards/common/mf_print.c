/* mf_print.c - tiny line-buffered formatting on top of mf_console_write (no stdio). */
#include "mf_board.h"

#define MF_LINE 128

static char line[MF_LINE + 1];
static uint32_t used;

void mf_print_flush(void)
{
    if (used > 0) {
        line[used] = '\0';
        mf_console_write(line, used);
        used = 0;
    }
}

static void put(char c)
{
    line[used++] = c;
    if (c == '\n' || used == MF_LINE) {
        mf_print_flush();
    }
}

void mf_print(const char *s)
{
    while (*s != '\0') {
        put(*s++);
    }
}

void mf_print_u32(uint32_t v)
{
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    while (n > 0) {
        put(digits[--n]);
    }
}

void mf_print_i32(int32_t v)
{
    if (v < 0) {
        put('-');
        mf_print_u32(0u - (uint32_t)v);
    } else {
        mf_print_u32((uint32_t)v);
    }
}

static const char hex[] = "0123456789abcdef";

void mf_print_hex32(uint32_t v)
{
    int shift;
    mf_print("0x");
    for (shift = 28; shift >= 0; shift -= 4) {
        put(hex[(v >> shift) & 0xfu]);
    }
}

void mf_print_hex_bytes(const int8_t *data, uint32_t length)
{
    uint32_t i;
    for (i = 0; i < length; ++i) {
        const uint8_t b = (uint8_t)data[i];
        put(hex[b >> 4]);
        put(hex[b & 0xfu]);
    }
}

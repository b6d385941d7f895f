/*
 * mf_console_nrf52_uart0.c - nRF52 UART0 on P0.06, the J-Link virtual COM port of the
 * nRF52840-DK. 115200 8N1, transmit only, polled.
 */
#include "mf_nrf_uart0.h"

void mf_console_init(void) { mf_nrf_uart0_init(6u); }

void mf_console_write(const char *data, uint32_t length) { mf_nrf_uart0_write(data, length); }

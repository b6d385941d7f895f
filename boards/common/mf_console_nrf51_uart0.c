/*
 * mf_console_nrf51_uart0.c - nRF51 UART0 on P0.24, the micro:bit's TX line to its interface
 * chip's USB serial port (QEMU's microbit: its first serial port). 115200 8N1, transmit only,
 * polled.
 */
#include "mf_nrf_uart0.h"

void mf_console_init(void) { mf_nrf_uart0_init(24u); }

void mf_console_write(const char *data, uint32_t length) { mf_nrf_uart0_write(data, length); }

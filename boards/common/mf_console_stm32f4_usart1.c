/*
 * mf_console_stm32f4_usart1.c - STM32F4 USART1 (APB2, RCC_APB2ENR bit 4, at 0x40011000) on PA9.
 * 115200 8N1, transmit only, polled. QEMU's STM32F405 (netduinoplus2) connects USART1 to its
 * first serial port.
 */
#include "mf_stm32f4_usart.h"

#define USART1 0x40011000u
#define RCC_APB2ENR 0x40023844u

void mf_console_init(void) { mf_stm32f4_usart_init(USART1, RCC_APB2ENR, 4u, 9u); }

void mf_console_write(const char *data, uint32_t length) { mf_stm32f4_usart_write(USART1, data, length); }

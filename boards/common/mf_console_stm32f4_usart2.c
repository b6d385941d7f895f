/*
 * mf_console_stm32f4_usart2.c - STM32F4 USART2 (APB1, RCC_APB1ENR bit 17, at 0x40004400) on PA2,
 * the ST-LINK virtual COM port of NUCLEO-F4 boards. 115200 8N1, transmit only, polled.
 */
#include "mf_stm32f4_usart.h"

#define USART2 0x40004400u
#define RCC_APB1ENR 0x40023840u

void mf_console_init(void) { mf_stm32f4_usart_init(USART2, RCC_APB1ENR, 17u, 2u); }

void mf_console_write(const char *data, uint32_t length) { mf_stm32f4_usart_write(USART2, data, length); }

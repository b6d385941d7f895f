/*
 * mf_console_stm32f4_usart2.c - STM32F4 USART2 on PA2 (alternate function 7), the ST-LINK
 * virtual COM port of NUCLEO-F4 boards. 115200 8N1 from the 16 MHz HSI that runs APB1 after
 * reset (BRR = 16e6 / 115200 = 138.9 -> 139). Transmit only, polled.
 */
#include "mf_board.h"

#define RCC_AHB1ENR 0x40023830u
#define RCC_APB1ENR 0x40023840u
#define GPIOA_MODER 0x40020000u
#define GPIOA_AFRL 0x40020020u
#define USART2_SR 0x40004400u
#define USART2_DR 0x40004404u
#define USART2_BRR 0x40004408u
#define USART2_CR1 0x4000440Cu
#define SR_TXE (1u << 7)
#define CR1_UE (1u << 13)
#define CR1_TE (1u << 3)

void mf_console_init(void)
{
    MF_REG32(RCC_AHB1ENR) |= 1u << 0;  /* GPIOA clock */
    MF_REG32(RCC_APB1ENR) |= 1u << 17; /* USART2 clock */
    MF_REG32(GPIOA_MODER) = (MF_REG32(GPIOA_MODER) & ~(3u << 4)) | (2u << 4);    /* PA2: AF */
    MF_REG32(GPIOA_AFRL) = (MF_REG32(GPIOA_AFRL) & ~(0xFu << 8)) | (7u << 8);   /* AF7 */
    MF_REG32(USART2_BRR) = 139u;
    MF_REG32(USART2_CR1) = CR1_UE | CR1_TE;
}

void mf_console_write(const char *data, uint32_t length)
{
    uint32_t i;
    for (i = 0; i < length; ++i) {
        while ((MF_REG32(USART2_SR) & SR_TXE) == 0u) {
        }
        MF_REG32(USART2_DR) = (uint8_t)data[i];
    }
}

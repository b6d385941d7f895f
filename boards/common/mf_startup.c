/*
 * mf_startup.c - reset and exception handling for every Cortex-M board (ARMv6-M to ARMv8.1-M).
 *
 * The vector table holds the 16 system entries only: the firmware enables no peripheral
 * interrupts. Reset copies .data from flash, zeroes .bss, grants the FPU (and MVE, which shares
 * its coprocessor bits) full access where the build uses it, then calls main(). Faults print
 * which exception, the stacked registers and the fault status registers, then mf_exit(3).
 */
#include <stdint.h>

#include "mf_board.h"

extern uint32_t __mf_data_load[];
extern uint32_t __mf_data_start[];
extern uint32_t __mf_data_end[];
extern uint32_t __mf_bss_start[];
extern uint32_t __mf_bss_end[];
extern uint32_t __mf_stack_top[];

int main(void);
void Reset_Handler(void);
void Fault_Handler(void);
void Default_Handler(void);
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));
void mf_fault_report(const uint32_t *frame, uint32_t exc_return);

#define CPACR 0xE000ED88u
#define SCB_CFSR 0xE000ED28u
#define SCB_HFSR 0xE000ED2Cu
#define SCB_MMFAR 0xE000ED34u
#define SCB_BFAR 0xE000ED38u

typedef void (*mf_vector)(void);

__attribute__((section(".vectors"), used)) const mf_vector mf_vectors[16] = {
    (mf_vector)(uintptr_t)__mf_stack_top,
    Reset_Handler,
    Fault_Handler, /* NMI */
    Fault_Handler, /* HardFault */
    Fault_Handler, /* MemManage */
    Fault_Handler, /* BusFault */
    Fault_Handler, /* UsageFault */
    Fault_Handler, /* SecureFault (ARMv8-M) */
    0,
    0,
    0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMonitor */
    0,
    Default_Handler, /* PendSV */
    SysTick_Handler,
};

void Reset_Handler(void)
{
    uint32_t *src = __mf_data_load;
    uint32_t *dst;
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
    /* CP10 and CP11 full access: the FPU (and MVE) would fault on first use otherwise. */
    MF_REG32(CPACR) |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    for (dst = __mf_data_start; dst < __mf_data_end;) {
        *dst++ = *src++;
    }
    for (dst = __mf_bss_start; dst < __mf_bss_end;) {
        *dst++ = 0u;
    }
    mf_exit(main());
}

void Default_Handler(void)
{
    mf_fault_report(0, 0);
}

/* Find the stacked exception frame (MSP or PSP, from bit 2 of EXC_RETURN) and report it.
 * Thumb-1 only, so that it also assembles for Cortex-M0+. */
__attribute__((naked)) void Fault_Handler(void)
{
    __asm__ volatile(
        "movs r0, #4\n\t"
        "mov r1, lr\n\t"
        "tst r0, r1\n\t"
        "beq 1f\n\t"
        "mrs r0, psp\n\t"
        "b 2f\n"
        "1:\n\t"
        "mrs r0, msp\n"
        "2:\n\t"
        "ldr r2, 3f\n\t"
        "bx r2\n\t"
        ".align 2\n"
        "3:\n\t"
        ".word mf_fault_report\n");
}

static const char *const exception_names[16] = {
    "?", "Reset", "NMI", "HardFault", "MemManage", "BusFault", "UsageFault", "SecureFault",
    "?", "?", "?", "SVCall", "DebugMonitor", "?", "PendSV", "SysTick",
};

void mf_fault_report(const uint32_t *frame, uint32_t exc_return)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    mf_print_flush();
    mf_print("\nmcuforge: fault: ");
    mf_print(ipsr < 16u ? exception_names[ipsr] : "interrupt");
    mf_print(" (exception ");
    mf_print_u32(ipsr);
    mf_print(")\n");
    if (frame != 0) {
        mf_print("  pc ");
        mf_print_hex32(frame[6]);
        mf_print("  lr ");
        mf_print_hex32(frame[5]);
        mf_print("  xpsr ");
        mf_print_hex32(frame[7]);
        mf_print("  exc_return ");
        mf_print_hex32(exc_return);
        mf_print("\n  r0 ");
        mf_print_hex32(frame[0]);
        mf_print("  r1 ");
        mf_print_hex32(frame[1]);
        mf_print("  r2 ");
        mf_print_hex32(frame[2]);
        mf_print("  r3 ");
        mf_print_hex32(frame[3]);
        mf_print("  r12 ");
        mf_print_hex32(frame[4]);
        mf_print("\n");
    }
#if !defined(__ARM_ARCH_6M__)
    mf_print("  cfsr ");
    mf_print_hex32(MF_REG32(SCB_CFSR));
    mf_print("  hfsr ");
    mf_print_hex32(MF_REG32(SCB_HFSR));
    mf_print("  mmfar ");
    mf_print_hex32(MF_REG32(SCB_MMFAR));
    mf_print("  bfar ");
    mf_print_hex32(MF_REG32(SCB_BFAR));
    mf_print("\n");
#endif
    mf_exit(3);
}

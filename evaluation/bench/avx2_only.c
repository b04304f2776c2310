/* LD_PRELOAD shim: the process sees a CPU without AVX-512, AMX or VNNI (an AVX2-only CPU).
 * CPUID is made to fault (arch_prctl ARCH_SET_CPUID, Linux >= 4.12 on CPUs or hypervisors
 * with CPUID faulting) and every CPUID is answered with those feature bits cleared, so every
 * library that picks its kernels by CPUID (oneDNN, MLAS, MKL, OpenVINO, ONNX Runtime) picks
 * its AVX2 ones. */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

/* Leaf 7.0: EBX avx512 f dq ifma pf er cd bw vl; ECX vbmi vbmi2 vnni bitalg vpopcntdq;
 * EDX 4vnniw 4fmaps vp2intersect amx-bf16 avx512-fp16 amx-tile amx-int8. Leaf 7.1: EAX
 * avx-vnni avx512-bf16. */
#define EBX7 ((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 30) | (1u << 31))
#define ECX7 ((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14))
#define EDX7 ((1u << 2) | (1u << 3) | (1u << 8) | (1u << 22) | (1u << 23) | (1u << 24) | (1u << 25))
#define EAX71 ((1u << 4) | (1u << 5))

static void on_fault(int sig, siginfo_t *info, void *context) {
    (void)info;
    ucontext_t *uc = context;
    greg_t *reg = uc->uc_mcontext.gregs;
    const unsigned char *ip = (const unsigned char *)reg[REG_RIP];
    if (ip[0] != 0x0f || ip[1] != 0xa2) { /* a real fault: let it crash as it would */
        signal(sig, SIG_DFL);
        return;
    }
    uint32_t leaf = (uint32_t)reg[REG_RAX], sub = (uint32_t)reg[REG_RCX], a, b, c, d;
    syscall(SYS_arch_prctl, ARCH_SET_CPUID, 1);
    __cpuid_count(leaf, sub, a, b, c, d);
    syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0);
    if (leaf == 7 && sub == 0) { b &= ~EBX7; c &= ~ECX7; d &= ~EDX7; }
    if (leaf == 7 && sub == 1) { a &= ~EAX71; }
    reg[REG_RAX] = a; reg[REG_RBX] = b; reg[REG_RCX] = c; reg[REG_RDX] = d;
    reg[REG_RIP] += 2;
}

__attribute__((constructor)) static void avx2_only(void) {
    struct sigaction action = {0};
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, 0);
    if (syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) != 0) {
        static const char msg[] = "avx2_only: this CPU or kernel cannot fault on CPUID\n";
        write(2, msg, sizeof msg - 1);
        _exit(97);
    }
}

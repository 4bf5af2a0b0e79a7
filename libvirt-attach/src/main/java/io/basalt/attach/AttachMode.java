package io.basalt.attach;

/** How this host reaches the volume before handing it to QEMU. */
public enum AttachMode {
    /** The kernel's nvme-tcp host connects; QEMU opens the namespace's block device. */
    KERNEL,
    /** A bridge process is the NVMe/TCP host; QEMU opens it as an NBD export on a unix socket. */
    USERSPACE
}

package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.nvme.Status;

/**
 * Asymmetric Namespace Access state of an ANA group as seen through one port (NVMe Base 2.0,
 * 8.1.1): the value reported in the ANA log and the path status I/O commands get in that state.
 */
public enum AnaState {
    OPTIMIZED(0x01, Status.SUCCESS),
    NON_OPTIMIZED(0x02, Status.SUCCESS),
    INACCESSIBLE(0x03, Status.ANA_INACCESSIBLE),
    /** Moving between states; hosts retry (on any path) until the transition time ANATT passes. */
    CHANGE(0x0F, Status.ANA_TRANSITION);

    private final int code;
    private final int ioStatus;

    AnaState(int code, int ioStatus) {
        this.code = code;
        this.ioStatus = ioStatus;
    }

    /** The state's value in an ANA Group Descriptor. */
    public int code() {
        return code;
    }

    /** Whether commands that access a namespace of the group are processed in this state. */
    public boolean servesIo() {
        return ioStatus == Status.SUCCESS;
    }

    /** The status of I/O refused in this state: a path error without DNR, so a multipath host retries another path. */
    int ioStatus() {
        return ioStatus;
    }
}

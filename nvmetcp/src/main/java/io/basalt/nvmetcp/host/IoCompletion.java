package io.basalt.nvmetcp.host;

/**
 * Completion of one command sent by a {@link HostQueue}, called on the queue's event loop. An object
 * that issues many commands implements this once and is passed with each of them, so the I/O path
 * allocates nothing per command. It must not block.
 */
@FunctionalInterface
public interface IoCompletion {
    /**
     * Status a command completes with when its connection failed before the controller answered
     * (NVMe path related status, Host Pathing Error), when {@link #failed} is not overridden.
     */
    int HOST_PATH_ERROR = 0x370;

    /**
     * The controller completed the command.
     *
     * @param status the completion status without its phase bit (see {@link io.basalt.nvmetcp.nvme.Status})
     * @param result completion dwords 0 (low half) and 1 (high half), the command specific result
     */
    void complete(int status, long result);

    /** The connection failed before the command completed; the command may or may not have run. */
    default void failed(NvmeTransportException cause) {
        complete(HOST_PATH_ERROR, 0);
    }
}

package io.basalt.nvmetcp.nvmet;

/** Completion of one {@link BlockDevice} operation. */
@FunctionalInterface
public interface IoCallback {
    /** @param status an NVMe status ({@code Status.SUCCESS} or a value from {@link io.basalt.nvmetcp.nvme.Status}) */
    void complete(int status);

    /**
     * The object a device last kept with this callback through {@link #adapter(Object)}, or null. The
     * target's callbacks are its queues' command slots, reused for every command of the slot: a device
     * that adapts the callback to its own completion type keeps the adapter here and makes it once per
     * slot instead of once per command. Only the thread that submits the command may call it.
     */
    default Object adapter() {
        return null;
    }

    /**
     * Command Dwords 2 and 3 of the command (CDW2 in the low half), 0 for a callback that is not a
     * target's command. They are reserved for the commands a device sees (see {@link
     * io.basalt.nvmetcp.nvme.Sqe#CDW2}); a device may give them a meaning agreed with its own hosts,
     * as Basalt's replication does with a volume's generation. Only the thread that submits the
     * command may call it.
     */
    default long commandDwords2And3() {
        return 0;
    }

    /** Keeps {@code adapter} with this callback; a callback that is not a reused slot ignores it. */
    default void adapter(Object adapter) {
    }
}

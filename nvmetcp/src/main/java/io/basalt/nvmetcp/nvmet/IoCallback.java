package io.basalt.nvmetcp.nvmet;

/** Completion of one {@link BlockDevice} operation. */
@FunctionalInterface
public interface IoCallback {
    /** @param status an NVMe status ({@code Status.SUCCESS} or a value from {@link io.basalt.nvmetcp.nvme.Status}) */
    void complete(int status);
}

package io.basalt.nvmetcp.host;

import io.basalt.nvmetcp.nvme.Status;

/** A command's completion: its status and command specific result (dwords 0-1). */
public record Completion(int status, long result) {
    public int dw0() {
        return (int) result;
    }

    public boolean isSuccess() {
        return Status.isSuccess(status);
    }

    /** This completion if it succeeded, else an {@link NvmeStatusException} naming {@code command}. */
    public Completion orThrow(String command) {
        if (!isSuccess()) {
            throw new NvmeStatusException(command, status, result);
        }
        return this;
    }
}

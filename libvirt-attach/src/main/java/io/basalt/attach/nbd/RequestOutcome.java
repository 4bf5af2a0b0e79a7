package io.basalt.attach.nbd;

/** Where a {@link BridgedRequest} reports that it has finished, on the bridge's event loop. */
@FunctionalInterface
interface RequestOutcome {
    /** @param error an NBD error number, {@link NbdProtocol#OK} on success */
    void finished(BridgedRequest request, int error);
}

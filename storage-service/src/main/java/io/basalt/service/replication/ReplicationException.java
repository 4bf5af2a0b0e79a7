package io.basalt.service.replication;

/** A replication step (a rejoin, a copy) could not be carried out; what it says is for the operator. */
public final class ReplicationException extends Exception {
    public ReplicationException(String message) {
        super(message);
    }

    public ReplicationException(String message, Throwable cause) {
        super(message, cause);
    }
}

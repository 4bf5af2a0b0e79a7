package io.basalt.bridge;

/** The node is in a cluster but cannot say anything of it yet (it is still joining); asking again later works. */
public final class ClusterUnavailableException extends RuntimeException {
    public ClusterUnavailableException(String message) {
        super(message);
    }
}

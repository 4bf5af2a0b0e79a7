package io.basalt.cluster;

/** The cluster's metadata store could not do what the node asked (etcd unreachable, refused, too slow). */
public class ClusterException extends Exception {
    public ClusterException(String message) {
        super(message);
    }

    public ClusterException(String message, Throwable cause) {
        super(message, cause);
    }
}

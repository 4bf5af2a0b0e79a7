package io.basalt.service.cluster;

/**
 * What the node holding a volume made of it, the JSON of {@code volume-states/<id>}: written only by
 * that node, after it applied (or failed to apply) a generation of the volume's desired state.
 *
 * @param nodeId     the holding node
 * @param project    the volume's project (so the holder can find its copy once the desired state is gone)
 * @param generation the generation of the desired state this report is about
 * @param nqn        the subsystem that exports it
 * @param nsid       its namespace ID there, 0 if it was not made
 * @param compression whether the node compresses it (the desired state may leave it to the node's default)
 * @param error      null when the generation was applied, else why not
 * @param errorKind  what kind of refusal {@code error} is, for the API to answer the right status
 * @param errorField the request field at fault, if one is
 */
record VolumeReport(String nodeId, String project, long generation, String nqn, int nsid, boolean compression,
                    String error,
                    ErrorKind errorKind, String errorField) {

    VolumeReport {
        if (nodeId == null || project == null || (error != null && errorKind == null)) {
            throw new IllegalArgumentException("a volume report needs a node, a project, and a kind with its error");
        }
    }

    enum ErrorKind { INVALID, CAPACITY, CONFLICT, NOT_MADE, FAILED }

    boolean applied(long wanted) {
        return generation >= wanted && error == null;
    }
}

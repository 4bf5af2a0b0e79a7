package io.basalt.service.cluster;

/**
 * What a node holding a copy of a volume made of it: written only by that node, after it applied (or
 * failed to apply) a generation of the volume's desired state. The primary's report is the JSON of
 * {@code volume-states/<volume id>}, with the subsystem hosts connect to; a secondary's is under
 * {@code volume-states/<volume id>@<node id>}, with its replica subsystem, which only the cluster's
 * nodes may reach.
 *
 * @param nodeId     the node holding this copy
 * @param project    the volume's project (so the holder can find its copy once the desired state is gone)
 * @param generation the generation of the desired state this report is about
 * @param nqn        the subsystem that exports it (a secondary's: its replica subsystem)
 * @param nsid       its namespace ID there, 0 if it was not made or not yet served
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

    /** Separates a volume id from a node id in a secondary's report's key; in neither a UUID nor a key's '/'. */
    private static final char SECONDARY = '@';

    /** The id under {@code volume-states/} of the report of the copy on {@code nodeId}. */
    static String stateId(VolumeDesire desire, String nodeId) {
        return desire.holder().equals(nodeId) ? desire.id() : secondaryStateId(desire.id(), nodeId);
    }

    /** The id under {@code volume-states/} of the report of a secondary's copy. */
    static String secondaryStateId(String volumeId, String nodeId) {
        return volumeId + SECONDARY + nodeId;
    }

    /** The volume a report's id under {@code volume-states/} is about. */
    static String volumeOf(String stateId) {
        int at = stateId.indexOf(SECONDARY);
        return at < 0 ? stateId : stateId.substring(0, at);
    }

    enum ErrorKind { INVALID, CAPACITY, CONFLICT, NOT_MADE, FAILED }

    boolean applied(long wanted) {
        return generation >= wanted && error == null;
    }
}

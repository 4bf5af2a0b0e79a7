package io.basalt.nvmetcp.nvme;

/**
 * NVMe completion status values as {@code SCT << 8 | SC}, plus the Do Not Retry bit, in the
 * layout of the completion queue entry's status field without its phase bit.
 */
public final class Status {
    public static final int DNR = 0x4000;

    // Generic command status (SCT 0)
    public static final int SUCCESS = 0x0000;
    public static final int INVALID_OPCODE = 0x0001;
    public static final int INVALID_FIELD = 0x0002;
    public static final int CID_CONFLICT = 0x0003;
    public static final int DATA_TRANSFER_ERROR = 0x0004;
    public static final int INTERNAL_ERROR = 0x0006;
    public static final int ABORT_REQUESTED = 0x0007;
    public static final int INVALID_NAMESPACE = 0x000B;
    public static final int COMMAND_SEQUENCE_ERROR = 0x000C;
    public static final int SGL_DATA_LENGTH_INVALID = 0x000F;
    public static final int SGL_DESCRIPTOR_TYPE_INVALID = 0x0011;
    public static final int SGL_OFFSET_INVALID = 0x0016;
    public static final int NAMESPACE_WRITE_PROTECTED = 0x0020;
    public static final int LBA_OUT_OF_RANGE = 0x0080;
    public static final int CAPACITY_EXCEEDED = 0x0081;
    public static final int NAMESPACE_NOT_READY = 0x0082;
    /** The command conflicts with a reservation or fence the namespace holds against this host. */
    public static final int RESERVATION_CONFLICT = 0x0083;

    // Command specific status (SCT 1)
    public static final int INVALID_QUEUE_IDENTIFIER = 0x0101;
    public static final int INVALID_QUEUE_SIZE = 0x0102;
    public static final int ASYNC_EVENT_LIMIT_EXCEEDED = 0x0105;
    public static final int INVALID_LOG_PAGE = 0x0109;
    public static final int FEATURE_NOT_SAVEABLE = 0x010D;
    public static final int FEATURE_NOT_CHANGEABLE = 0x010E;
    public static final int CONNECT_INCOMPATIBLE_FORMAT = 0x0180;
    public static final int CONNECT_CONTROLLER_BUSY = 0x0181;
    public static final int CONNECT_INVALID_PARAMETERS = 0x0182;
    public static final int CONNECT_INVALID_HOST = 0x0184;
    /** The queue must complete in-band authentication before this command. */
    public static final int AUTHENTICATION_REQUIRED = 0x0191;

    // Media and data integrity errors (SCT 2)
    public static final int WRITE_FAULT = 0x0280;
    public static final int UNRECOVERED_READ_ERROR = 0x0281;

    // Path related status (SCT 3): never with DNR, so a multipath host retries on another path
    public static final int ANA_INACCESSIBLE = 0x0302;
    public static final int ANA_TRANSITION = 0x0303;

    private Status() {
    }

    public static boolean isSuccess(int status) {
        return (status & 0x7FF) == SUCCESS;
    }

    public static int codeType(int status) {
        return (status >> 8) & 0x7;
    }

    public static int code(int status) {
        return status & 0xFF;
    }

    public static String describe(int status) {
        return String.format("SCT %d SC 0x%02x%s", codeType(status), code(status), (status & DNR) != 0 ? " DNR" : "");
    }
}

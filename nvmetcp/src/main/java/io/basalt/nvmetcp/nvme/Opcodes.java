package io.basalt.nvmetcp.nvme;

/** Command opcodes and fabrics command types used by the target and the host. */
public final class Opcodes {
    // Admin command set
    public static final int ADMIN_GET_LOG_PAGE = 0x02;
    public static final int ADMIN_IDENTIFY = 0x06;
    public static final int ADMIN_ABORT = 0x08;
    public static final int ADMIN_SET_FEATURES = 0x09;
    public static final int ADMIN_GET_FEATURES = 0x0A;
    public static final int ADMIN_ASYNC_EVENT_REQUEST = 0x0C;
    public static final int ADMIN_KEEP_ALIVE = 0x18;

    // NVM command set
    public static final int IO_FLUSH = 0x00;
    public static final int IO_WRITE = 0x01;
    public static final int IO_READ = 0x02;
    public static final int IO_WRITE_ZEROES = 0x08;
    public static final int IO_DATASET_MANAGEMENT = 0x09;

    // Fabrics
    public static final int FABRICS = 0x7F;
    public static final int FCTYPE_PROPERTY_SET = 0x00;
    public static final int FCTYPE_CONNECT = 0x01;
    public static final int FCTYPE_PROPERTY_GET = 0x04;
    public static final int FCTYPE_AUTHENTICATION_SEND = 0x05;
    public static final int FCTYPE_AUTHENTICATION_RECEIVE = 0x06;
    public static final int FCTYPE_DISCONNECT = 0x08;

    // Identify CNS values
    public static final int CNS_NAMESPACE = 0x00;
    public static final int CNS_CONTROLLER = 0x01;
    public static final int CNS_ACTIVE_NAMESPACES = 0x02;
    public static final int CNS_NAMESPACE_DESCRIPTORS = 0x03;
    public static final int CNS_CSI_CONTROLLER = 0x06;

    // Log pages
    public static final int LOG_ERROR = 0x01;
    public static final int LOG_SMART = 0x02;
    public static final int LOG_FIRMWARE_SLOT = 0x03;
    public static final int LOG_CHANGED_NAMESPACES = 0x04;
    public static final int LOG_ANA = 0x0C;
    public static final int LOG_DISCOVERY = 0x70;

    // Features
    public static final int FEATURE_VOLATILE_WRITE_CACHE = 0x06;
    public static final int FEATURE_NUMBER_OF_QUEUES = 0x07;
    public static final int FEATURE_ASYNC_EVENT_CONFIG = 0x0B;
    public static final int FEATURE_KEEP_ALIVE_TIMER = 0x0F;

    // Controller properties (register offsets)
    public static final int PROP_CAP = 0x00;
    public static final int PROP_VS = 0x08;
    public static final int PROP_CC = 0x14;
    public static final int PROP_CSTS = 0x1C;

    private Opcodes() {
    }
}

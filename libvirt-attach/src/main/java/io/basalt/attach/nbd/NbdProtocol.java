package io.basalt.attach.nbd;

/**
 * Numbers of the NBD protocol (doc/proto.md of the NetworkBlockDevice project) that this server
 * speaks: fixed newstyle negotiation and simple replies only.
 */
final class NbdProtocol {
    static final long NBDMAGIC = 0x4e42444d41474943L;
    static final long IHAVEOPT = 0x49484156454F5054L;
    static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE_REPLY_MAGIC = 0x67446698;

    static final int FLAG_FIXED_NEWSTYLE = 1;
    static final int FLAG_NO_ZEROES = 1 << 1;
    static final int CLIENT_FLAGS_KNOWN = FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES;
    /** Padding after NBD_OPT_EXPORT_NAME's reply unless the client set NO_ZEROES. */
    static final int EXPORT_NAME_PADDING = 124;

    static final int OPT_EXPORT_NAME = 1;
    static final int OPT_ABORT = 2;
    static final int OPT_LIST = 3;
    static final int OPT_INFO = 6;
    static final int OPT_GO = 7;

    static final int REP_ACK = 1;
    static final int REP_SERVER = 2;
    static final int REP_INFO = 3;
    static final int REP_ERR_UNSUP = 0x80000001;
    static final int REP_ERR_INVALID = 0x80000003;

    static final int INFO_EXPORT = 0;
    static final int INFO_BLOCK_SIZE = 3;

    static final int TRANSMISSION_HAS_FLAGS = 1;
    static final int TRANSMISSION_SEND_FLUSH = 1 << 2;
    static final int TRANSMISSION_SEND_FUA = 1 << 3;
    static final int TRANSMISSION_SEND_TRIM = 1 << 5;
    static final int TRANSMISSION_SEND_WRITE_ZEROES = 1 << 6;
    static final int TRANSMISSION_FLAGS = TRANSMISSION_HAS_FLAGS | TRANSMISSION_SEND_FLUSH | TRANSMISSION_SEND_FUA
            | TRANSMISSION_SEND_TRIM | TRANSMISSION_SEND_WRITE_ZEROES;

    static final int CMD_FLAG_FUA = 1;

    static final int CMD_READ = 0;
    static final int CMD_WRITE = 1;
    static final int CMD_DISC = 2;
    static final int CMD_FLUSH = 3;
    static final int CMD_TRIM = 4;
    static final int CMD_WRITE_ZEROES = 6;

    static final int OK = 0;
    static final int EIO = 5;
    static final int EINVAL = 22;
    static final int ESHUTDOWN = 108;

    /** The preferred block size advertised: the page size, which keeps the target's work aligned. */
    static final int PREFERRED_BLOCK_SIZE = 4096;
    /** The protocol's default maximum payload, which clients honour when nothing else was agreed. */
    static final int MAX_PAYLOAD = 32 << 20;

    private NbdProtocol() {
    }
}

package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.nvme.Opcodes;
import io.basalt.nvmetcp.nvme.Sqe;
import io.basalt.nvmetcp.nvme.Status;

/** Set Features and Get Features for the features a controller keeps. */
final class Features {
    private static final int SAVE = 1 << 31;
    private static final int SELECT_SUPPORTED_CAPABILITIES = 3;
    /** Get Features capabilities result: the feature is changeable. */
    private static final int CAPABILITY_CHANGEABLE = 1 << 2;

    private Features() {
    }

    static void set(Request req, Controller ctrl) {
        int cdw10 = req.sqe.getIntLE(Sqe.CDW10);
        int fid = cdw10 & 0xFF;
        int value = req.sqe.getIntLE(Sqe.CDW11);
        if ((cdw10 & SAVE) != 0) {
            req.complete(Status.FEATURE_NOT_SAVEABLE | Status.DNR);
            return;
        }
        boolean discovery = ctrl.isDiscovery();
        switch (fid) {
            case Opcodes.FEATURE_NUMBER_OF_QUEUES -> {
                int submission = value & 0xFFFF;
                int completion = value >>> 16;
                if (discovery || submission == 0xFFFF || completion == 0xFFFF) {
                    req.complete(Status.INVALID_FIELD | Status.DNR);
                    return;
                }
                int granted = ctrl.requestIoQueues(Math.min(submission, completion) + 1);
                if (granted < 0) {
                    req.complete(Status.COMMAND_SEQUENCE_ERROR | Status.DNR);
                    return;
                }
                req.result(granted - 1 | (granted - 1) << 16);
            }
            case Opcodes.FEATURE_ASYNC_EVENT_CONFIG -> ctrl.asyncEventConfig(value);
            case Opcodes.FEATURE_KEEP_ALIVE_TIMER -> ctrl.keepAliveMillis(value);
            case Opcodes.FEATURE_VOLATILE_WRITE_CACHE -> {
                if (discovery) {
                    req.complete(Status.INVALID_FIELD | Status.DNR);
                    return;
                }
                ctrl.volatileWriteCache((value & 1) != 0);
            }
            default -> {
                req.complete(Status.INVALID_FIELD | Status.DNR);
                return;
            }
        }
        req.complete(Status.SUCCESS);
    }

    static void get(Request req, Controller ctrl) {
        int cdw10 = req.sqe.getIntLE(Sqe.CDW10);
        int fid = cdw10 & 0xFF;
        int select = (cdw10 >> 8) & 0x7;
        boolean discovery = ctrl.isDiscovery();
        int value;
        switch (fid) {
            case Opcodes.FEATURE_NUMBER_OF_QUEUES -> {
                if (discovery) {
                    req.complete(Status.INVALID_FIELD | Status.DNR);
                    return;
                }
                int granted = ctrl.grantedIoQueues() - 1;
                value = granted | granted << 16;
            }
            case Opcodes.FEATURE_ASYNC_EVENT_CONFIG -> value = ctrl.asyncEventConfig();
            case Opcodes.FEATURE_KEEP_ALIVE_TIMER -> value = ctrl.keepAliveMillis();
            case Opcodes.FEATURE_VOLATILE_WRITE_CACHE -> {
                if (discovery) {
                    req.complete(Status.INVALID_FIELD | Status.DNR);
                    return;
                }
                value = ctrl.volatileWriteCache() ? 1 : 0;
            }
            default -> {
                req.complete(Status.INVALID_FIELD | Status.DNR);
                return;
            }
        }
        req.result(select == SELECT_SUPPORTED_CAPABILITIES ? CAPABILITY_CHANGEABLE : value);
        req.complete(Status.SUCCESS);
    }
}

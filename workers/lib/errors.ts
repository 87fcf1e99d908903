import { Code, ConnectError } from "@connectrpc/connect";

export const invalidArgument = (msg: string) => new ConnectError(msg, Code.InvalidArgument);
export const notFound = (msg: string) => new ConnectError(msg, Code.NotFound);
export const alreadyExists = (msg: string) => new ConnectError(msg, Code.AlreadyExists);
export const unauthenticated = (msg: string) => new ConnectError(msg, Code.Unauthenticated);
export const permissionDenied = (msg: string) => new ConnectError(msg, Code.PermissionDenied);
export const failedPrecondition = (msg: string) => new ConnectError(msg, Code.FailedPrecondition);
export const resourceExhausted = (msg: string) => new ConnectError(msg, Code.ResourceExhausted);
export const aborted = (msg: string) => new ConnectError(msg, Code.Aborted);

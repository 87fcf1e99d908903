// gRPC server reflection (v1 and v1alpha share one wire shape), so grpcurl and buf curl work without
// local proto files. Descriptors come from the generated code's embedded file descriptors.
import { createRegistry, type DescFile, type DescService, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import * as v1 from "../../proto/gen/grpc/reflection/v1/reflection_pb.ts";
import * as v1alpha from "../../proto/gen/grpc/reflection/v1alpha/reflection_pb.ts";

type Request = v1.ServerReflectionRequest | v1alpha.ServerReflectionRequest;

/** Files in dependency order, each once. */
function withDependencies(file: DescFile, seen = new Set<string>(), out: DescFile[] = []): DescFile[] {
  if (seen.has(file.name)) return out;
  seen.add(file.name);
  for (const dep of file.dependencies) withDependencies(dep, seen, out);
  out.push(file);
  return out;
}

export function reflectionRoutes(services: DescService[]) {
  const files = services.flatMap((s) => withDependencies(s.file));
  const registry = createRegistry(...files);
  const byName = new Map(files.map((f) => [f.name, f]));
  const names = [...new Set(services.map((s) => s.typeName))].sort();

  const fileResponse = (file: DescFile | undefined) =>
    file && {
      case: "fileDescriptorResponse" as const,
      value: {
        fileDescriptorProto: withDependencies(file).map((f) => toBinary(FileDescriptorProtoSchema, f.proto)),
      },
    };
  const notFound = (what: string) => ({
    case: "errorResponse" as const,
    value: { errorCode: 5, errorMessage: `${what} not found` },
  });

  const answer = (req: Request) => {
    const r = req.messageRequest;
    switch (r.case) {
      case "listServices":
        return { case: "listServicesResponse" as const, value: { service: names.map((name) => ({ name })) } };
      case "fileByFilename":
        return fileResponse(byName.get(r.value)) ?? notFound(`file "${r.value}"`);
      case "fileContainingSymbol": {
        // A method symbol is "pkg.Service.Method": fall back to its service.
        const sym = r.value;
        const desc = registry.get(sym) ?? registry.get(sym.slice(0, Math.max(0, sym.lastIndexOf("."))));
        const file = desc && "file" in desc ? desc.file : undefined;
        return fileResponse(file) ?? notFound(`symbol "${sym}"`);
      }
      case "allExtensionNumbersOfType":
        return registry.getMessage(r.value)
          ? {
              case: "allExtensionNumbersResponse" as const,
              value: { baseTypeName: r.value, extensionNumber: [] },
            }
          : notFound(`type "${r.value}"`);
      default:
        return notFound("extension");
    }
  };

  return (router: ConnectRouter) => {
    for (const svc of [v1.ServerReflection, v1alpha.ServerReflection]) {
      router.service(svc, {
        async *serverReflectionInfo(requests: AsyncIterable<Request>) {
          for await (const req of requests) {
            yield { validHost: req.host, originalRequest: req, messageResponse: answer(req) } as never;
          }
        },
      });
    }
  };
}

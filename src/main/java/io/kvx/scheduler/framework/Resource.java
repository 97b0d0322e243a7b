package io.kvx.scheduler.framework;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import static io.kvx.api.Quantities.bytes;
import static io.kvx.api.Quantities.milli;


/** CPU (millicores), memory (bytes) and pod count, as kube-scheduler's framework.Resource. Pure. */
public record Resource(long milliCpu, long memory, long pods) {

  public static final Resource ZERO = new Resource(0, 0, 0);

  public Resource plus(Resource o) {
    return new Resource(milliCpu + o.milliCpu, memory + o.memory, pods + o.pods);
  }

  /** A pod's requests: the sum over its containers, or the largest init container if bigger. */
  public static Resource ofPod(JsonObject pod) {
    JsonObject spec = pod.getJsonObject("spec", new JsonObject());
    long cpu = 0;
    long mem = 0;
    for (Object c : spec.getJsonArray("containers", new JsonArray())) {
      JsonObject req = requests((JsonObject) c);
      cpu += milli(req.getString("cpu"));
      mem += bytes(req.getString("memory"));
    }
    for (Object c : spec.getJsonArray("initContainers", new JsonArray())) {
      JsonObject req = requests((JsonObject) c);
      cpu = Math.max(cpu, milli(req.getString("cpu")));
      mem = Math.max(mem, bytes(req.getString("memory")));
    }
    return new Resource(cpu, mem, 1);
  }

  private static JsonObject requests(JsonObject container) {
    JsonObject res = container.getJsonObject("resources", new JsonObject());
    JsonObject req = res.getJsonObject("requests");
    // Kubernetes defaults requests to limits when only limits are set.
    return req != null ? req : res.getJsonObject("limits", new JsonObject());
  }

  /** A node's allocatable resources. */
  public static Resource ofNode(JsonObject node) {
    JsonObject status = node.getJsonObject("status", new JsonObject());
    JsonObject alloc = status.getJsonObject("allocatable", status.getJsonObject("capacity", new JsonObject()));
    return new Resource(milli(str(alloc, "cpu")), bytes(str(alloc, "memory")),
        alloc.containsKey("pods") ? Long.parseLong(str(alloc, "pods")) : 110);
  }

  private static String str(JsonObject o, String k) {
    Object v = o.getValue(k);
    return v == null ? null : String.valueOf(v);
  }
}

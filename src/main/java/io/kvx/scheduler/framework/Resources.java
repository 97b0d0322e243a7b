package io.kvx.scheduler.framework;

import io.fabric8.kubernetes.api.model.Quantity;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;

/** CPU (millicores), memory (bytes) and pod count; parsed with fabric8's Quantity. Pure. */
public record Resources(long milliCpu, long memory, long pods) {

  public static final Resources ZERO = new Resources(0, 0, 0);

  public Resources plus(Resources o) {
    return new Resources(milliCpu + o.milliCpu, memory + o.memory, pods + o.pods);
  }

  /** A pod's requests: the sum over its containers, or the largest init container if bigger. */
  public static Resources ofPod(JsonObject pod) {
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
    return new Resources(cpu, mem, 1);
  }

  private static JsonObject requests(JsonObject container) {
    JsonObject res = container.getJsonObject("resources", new JsonObject());
    JsonObject req = res.getJsonObject("requests");
    // Kubernetes defaults requests to limits when only limits are set.
    return req != null ? req : res.getJsonObject("limits", new JsonObject());
  }

  /** A node's allocatable resources. */
  public static Resources ofNode(JsonObject node) {
    JsonObject status = node.getJsonObject("status", new JsonObject());
    JsonObject alloc = status.getJsonObject("allocatable", status.getJsonObject("capacity", new JsonObject()));
    return new Resources(milli(str(alloc, "cpu")), bytes(str(alloc, "memory")),
        alloc.containsKey("pods") ? Long.parseLong(str(alloc, "pods")) : 110);
  }

  private static String str(JsonObject o, String k) {
    Object v = o.getValue(k);
    return v == null ? null : String.valueOf(v);
  }

  public static long milli(String q) {
    if (q == null) return 0;
    return Quantity.getAmountInBytes(new Quantity(q)).multiply(BigDecimal.valueOf(1000)).longValue();
  }

  public static long bytes(String q) {
    if (q == null) return 0;
    return Quantity.getAmountInBytes(new Quantity(q)).longValue();
  }
}

package io.kvx.scheduler;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

import java.util.Map;

/** Pods and nodes for tests, written as compact JSON (single quotes allowed). */
public final class Fixtures {

  private static final JsonMapper MAPPER = JsonMapper.builder()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

  private Fixtures() {
  }

  /** A pod from a spec JSON; {@code extra} is merged into metadata (labels, ...). */
  public static PodInfo pod(String name, String specJson) {
    return pod(name, "{}", specJson);
  }

  public static PodInfo pod(String name, String metaJson, String specJson) {
    String spec = specJson.replace('\'', '"');
    if (!spec.contains("containers")) {
      spec = spec.equals("{}") ? "{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}"
          : "{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]," + spec.substring(1);
    }
    String meta = metaJson.replace('\'', '"');
    String json = "{\"metadata\":" + merge("{\"name\":\"" + name + "\",\"namespace\":\"default\",\"uid\":\"u-" + name
        + "\"}", meta) + ",\"spec\":" + spec + "}";
    return new PodInfo(MAPPER.readValue(json, Pod.class));
  }

  /** The same pod with a status (JSON, single quotes allowed). */
  public static PodInfo withStatus(PodInfo pod, String statusJson) {
    Pod copy = MAPPER.convertValue(pod.pod(), Pod.class);
    copy.setStatus(MAPPER.readValue(statusJson.replace('\'', '"'), io.fabric8.kubernetes.api.model.PodStatus.class));
    return new PodInfo(copy);
  }

  /** A container requesting cpu and memory. */
  public static String requests(String cpu, String memory) {
    return "{'containers':[{'name':'c','image':'busybox','resources':{'requests':{"
        + (cpu == null ? "" : "'cpu':'" + cpu + "'") + (cpu != null && memory != null ? "," : "")
        + (memory == null ? "" : "'memory':'" + memory + "'") + "}}}]}";
  }

  public static NodeInfo node(String name, String cpu, String memory) {
    return node(name, "{}", "{}", cpu, memory, "{}");
  }

  /** A Ready node with labels (JSON map), spec JSON and extra status JSON (conditions replace Ready). */
  public static NodeInfo node(String name, String labels, String spec, String cpu, String memory, String status) {
    String st = status.replace('\'', '"');
    Map<?, ?> extra = MAPPER.readValue(st, Map.class);
    String conditions = extra.containsKey("conditions") ? "" : ",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]";
    String statusJson = "{\"allocatable\":{\"cpu\":\"" + cpu + "\",\"memory\":\"" + memory + "\",\"pods\":\"110\"}"
        + conditions + (st.equals("{}") ? "}" : "," + st.substring(1));
    String labelJson = merge("{\"kubernetes.io/hostname\":\"" + name + "\"}", labels.replace('\'', '"'));
    String json = "{\"metadata\":{\"name\":\"" + name + "\",\"labels\":" + labelJson + "},\"spec\":"
        + spec.replace('\'', '"') + ",\"status\":" + statusJson + "}";
    return new NodeInfo(MAPPER.readValue(json, Node.class));
  }

  /** Places a pod on a node (as bound). */
  public static NodeInfo with(NodeInfo node, PodInfo... pods) {
    for (PodInfo p : pods) node.addPod(p);
    return node;
  }

  private static String merge(String a, String b) {
    if (b.equals("{}")) return a;
    return a.substring(0, a.length() - 1) + "," + b.substring(1);
  }
}

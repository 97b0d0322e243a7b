package io.kvx.client;

import io.kvx.api.Meta;
import io.kvx.api.Resources;
import io.vertx.core.json.JsonObject;

/**
 * Records core/v1 Events about an object, as client-go's recorder does, so that `kubectl describe`
 * shows them. Fire and forget: a lost event is not worth failing a reconcile for.
 */
public final class EventRecorder {

  private final ApiClient client;
  private final String component;

  public EventRecorder(ApiClient client, String component) {
    this.client = client;
    this.component = component;
  }

  public void normal(JsonObject about, String reason, String message) {
    record(about, "Normal", reason, message);
  }

  public void warning(JsonObject about, String reason, String message) {
    record(about, "Warning", reason, message);
  }

  public void record(JsonObject about, String type, String reason, String message) {
    String now = Meta.nowMicro();
    String ns = Meta.namespace(about);
    String namespace = ns == null || ns.isEmpty() ? "default" : ns;
    JsonObject involved = new JsonObject().put("kind", about.getString("kind"))
        .put("apiVersion", about.getString("apiVersion")).put("name", Meta.name(about)).put("uid", Meta.uid(about));
    String rv = Meta.meta(about).getString("resourceVersion");
    if (rv != null) involved.put("resourceVersion", rv);
    if (ns != null && !ns.isEmpty()) involved.put("namespace", ns);
    JsonObject ev = new JsonObject()
        .put("metadata", new JsonObject().put("generateName", Meta.name(about) + ".").put("namespace", namespace))
        .put("involvedObject", involved).put("reason", reason).put("message", message).put("type", type)
        .put("source", new JsonObject().put("component", component)).put("reportingComponent", component)
        .put("firstTimestamp", Meta.now()).put("lastTimestamp", Meta.now()).put("eventTime", now).put("count", 1)
        .put("reportingInstance", component).put("action", reason);
    client.create(Resources.EVENTS, namespace, ev);
  }
}

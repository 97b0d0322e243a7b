package io.kvx.node;

import io.kvx.api.Meta;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The environment the kubelet gives every container for the Services it may reach (enableServiceLinks, on by
 * default, for the pod's namespace; the API's own "kubernetes" Service always): {NAME}_SERVICE_HOST/_PORT/_PORT_{PORT
 * NAME} and Docker's link variables {NAME}_PORT, {NAME}_PORT_{PORT}_{PROTO}[_PROTO|_PORT|_ADDR]. Services without a
 * cluster IP (headless, ExternalName) give none. Pure.
 */
final class ServiceLinks {

  private ServiceLinks() {
  }

  static List<String> env(List<JsonObject> services) {
    List<String> env = new ArrayList<>();
    for (JsonObject svc : services) {
      JsonObject spec = svc.getJsonObject("spec", new JsonObject());
      String ip = spec.getString("clusterIP", "");
      JsonArray ports = spec.getJsonArray("ports", new JsonArray());
      if (ip.isEmpty() || ip.equals("None") || ports.isEmpty()) continue;
      String name = envName(Meta.name(svc));
      for (int i = 0; i < ports.size(); i++) {
        JsonObject p = ports.getJsonObject(i);
        int port = p.getInteger("port", 0);
        if (i == 0) {
          env.add(name + "_SERVICE_HOST=" + ip);
          env.add(name + "_SERVICE_PORT=" + port);
        }
        String portName = p.getString("name", "");
        if (!portName.isEmpty()) env.add(name + "_SERVICE_PORT_" + envName(portName) + "=" + port);
      }
      for (int i = 0; i < ports.size(); i++) {
        JsonObject p = ports.getJsonObject(i);
        int port = p.getInteger("port", 0);
        String protocol = p.getString("protocol", "TCP");
        String url = protocol.toLowerCase(Locale.ROOT) + "://" + ip + ":" + port;
        if (i == 0) env.add(name + "_PORT=" + url);
        String prefix = name + "_PORT_" + port + "_" + protocol.toUpperCase(Locale.ROOT);
        env.add(prefix + "=" + url);
        env.add(prefix + "_PROTO=" + protocol.toLowerCase(Locale.ROOT));
        env.add(prefix + "_PORT=" + port);
        env.add(prefix + "_ADDR=" + ip);
      }
    }
    return env;
  }

  private static String envName(String name) {
    return name.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  /** The environment with each name once, the last value winning (a container's own env over the links). */
  static List<String> lastWins(List<String> env) {
    java.util.LinkedHashMap<String, String> byName = new java.util.LinkedHashMap<>();
    for (String e : env) {
      int eq = e.indexOf('=');
      String key = eq < 0 ? e : e.substring(0, eq);
      byName.remove(key);
      byName.put(key, e);
    }
    return new ArrayList<>(byName.values());
  }
}

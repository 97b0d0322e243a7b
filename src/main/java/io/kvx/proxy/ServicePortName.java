package io.kvx.proxy;

/**
 * One port of one Service: what the proxy programs a rule set for. {@code port} is the port's name
 * (empty for a single unnamed port), as the Endpoints object names its ports.
 */
public record ServicePortName(String namespace, String name, String port, String protocol) {

  /** The owning service, {@code namespace/name}: the unit of change. */
  public String service() {
    return namespace + "/" + name;
  }

  @Override
  public String toString() {
    return namespace + "/" + name + (port.isEmpty() ? "" : ":" + port) + "/" + protocol.toLowerCase();
  }
}

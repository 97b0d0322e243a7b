package io.kvx.proxy;

/**
 * What the proxy needs of one service port. {@code affinitySeconds} is 0 without
 * {@code sessionAffinity: ClientIP}; {@code nodePort} is 0 when there is none.
 */
public record ServicePort(ServicePortName name, String clusterIP, int port, String protocol, int nodePort,
                          int affinitySeconds) {

  public boolean affinity() {
    return affinitySeconds > 0;
  }
}

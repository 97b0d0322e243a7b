package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.regex.Pattern;

/**
 * networking.k8s.io/v1 objects checked as kube-apiserver checks them: an Ingress's rules (hosts as DNS names or
 * wildcards, never IPs; HTTP paths with a pathType, absolute and clean for Exact and Prefix; one backend each, a
 * Service named with one port name or number, or a resource), its default backend and TLS hosts; a NetworkPolicy's
 * selectors, ports (protocol, port, endPort) and peers (selectors, or one ipBlock with a CIDR and exceptions inside
 * it) and policyTypes. Pure.
 */
public final class NetworkingValidation {

  private static final Pattern WILDCARD = Pattern.compile("\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern DNS1035 = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern PORT_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?");
  private static final String SUBDOMAIN_RULE = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
      + "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
      + "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  private static final String WILDCARD_RULE = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid "
      + "DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an "
      + "alphanumeric character (e.g. '*.example.com', regex used for validation is "
      + "'\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  private static final List<String> INVALID_PATH_SEQUENCES = List.of("//", "/./", "/../", "%2f", "%2F");
  private static final List<String> INVALID_PATH_SUFFIXES = List.of("/..", "/.");

  private NetworkingValidation() {
  }

  /** An Ingress's spec. */
  public static void validateIngress(JsonObject ingress, List<ApiError.Cause> causes) {
    JsonObject spec = ingress.getValue("spec") instanceof JsonObject s ? s : new JsonObject();
    JsonArray rules = spec.getValue("rules") instanceof JsonArray r ? r : new JsonArray();
    if (spec.getValue("defaultBackend") instanceof JsonObject backend) {
      validateBackend(backend, "spec.defaultBackend", causes);
    } else if (rules.isEmpty()) {
      causes.add(new ApiError.Cause("spec", "FieldValueInvalid", "Invalid value: null: either `defaultBackend` or "
          + "`rules` must be specified"));
    }
    String className = spec.getString("ingressClassName");
    String annotated = Meta.meta(ingress).getJsonObject("annotations", new JsonObject())
        .getString("kubernetes.io/ingress.class");
    if (className != null && annotated != null && !annotated.equals(className)) {
      causes.add(Causes.invalid("annotations.kubernetes.io/ingress.class", annotated,
          "must match `ingressClassName` when both are specified"));
    }
    for (int i = 0; i < rules.size(); i++) {
      if (!(rules.getValue(i) instanceof JsonObject rule)) continue;
      String at = "spec.rules[" + i + "]";
      String host = rule.getString("host");
      if (host != null && !host.isEmpty()) validateHost(host, at + ".host", causes);
      if (!(rule.getValue("http") instanceof JsonObject http)) continue;
      JsonArray paths = http.getValue("paths") instanceof JsonArray p ? p : new JsonArray();
      if (paths.isEmpty()) causes.add(Causes.required(at + ".http.paths", null));
      for (int j = 0; j < paths.size(); j++) {
        if (paths.getValue(j) instanceof JsonObject path) validatePath(path, at + ".http.paths[" + j + "]", causes);
      }
    }
    JsonArray tls = spec.getValue("tls") instanceof JsonArray t ? t : new JsonArray();
    for (int i = 0; i < tls.size(); i++) {
      if (!(tls.getValue(i) instanceof JsonObject entry)) continue;
      String secret = entry.getString("secretName");
      if (secret != null && !secret.isEmpty() && !Validation.isDns1123Subdomain(secret)) {
        causes.add(Causes.invalid("spec.tls[" + i + "].secretName", secret, SUBDOMAIN_RULE));
      }
      JsonArray hosts = entry.getValue("hosts") instanceof JsonArray h ? h : new JsonArray();
      for (int j = 0; j < hosts.size(); j++) {
        String host = String.valueOf(hosts.getValue(j));
        String at = "spec.tls[" + i + "].hosts[" + j + "]";
        if (host.contains("*")) {
          if (!WILDCARD.matcher(host).matches()) causes.add(Causes.invalid(at, host, WILDCARD_RULE));
        } else if (!Validation.isDns1123Subdomain(host)) {
          causes.add(Causes.invalid(at, host, SUBDOMAIN_RULE));
        }
      }
    }
    validateClassName(spec, causes);
  }

  private static void validateClassName(JsonObject spec, List<ApiError.Cause> causes) {
    String className = spec.getString("ingressClassName");
    if (className != null && !Validation.isDns1123Subdomain(className)) {
      causes.add(Causes.invalid("spec.ingressClassName", className, SUBDOMAIN_RULE));
    }
  }

  private static void validateHost(String host, String at, List<ApiError.Cause> causes) {
    if (KubeCel.parseIp(host) != null || host.contains(":")) {
      causes.add(Causes.invalid(at, host, "must be a DNS name, not an IP address"));
    } else if (host.contains("*")) {
      if (!WILDCARD.matcher(host).matches()) causes.add(Causes.invalid(at, host, WILDCARD_RULE));
    } else if (!Validation.isDns1123Subdomain(host)) {
      causes.add(Causes.invalid(at, host, SUBDOMAIN_RULE));
    }
  }

  private static void validatePath(JsonObject path, String at, List<ApiError.Cause> causes) {
    String type = path.getString("pathType");
    String p = path.getString("path", "");
    if (type == null) {
      causes.add(Causes.required(at + ".pathType", "pathType must be specified"));
    } else if (!type.equals("Exact") && !type.equals("Prefix") && !type.equals("ImplementationSpecific")) {
      causes.add(Causes.notSupported(at + ".pathType", type, "Exact", "ImplementationSpecific", "Prefix"));
    } else if (type.equals("ImplementationSpecific")) {
      if (!p.isEmpty() && !p.startsWith("/")) causes.add(Causes.invalid(at + ".path", p, "must be an absolute path"));
    } else {
      if (!p.startsWith("/")) {
        causes.add(Causes.invalid(at + ".path", p, "must be an absolute path"));
      } else {
        for (String bad : INVALID_PATH_SEQUENCES) {
          if (p.contains(bad)) {
            causes.add(Causes.invalid(at + ".path", p, "must not contain '" + bad + "'"));
            break;
          }
        }
        for (String bad : INVALID_PATH_SUFFIXES) {
          if (p.endsWith(bad)) {
            causes.add(Causes.invalid(at + ".path", p, "cannot end with '" + bad + "'"));
            break;
          }
        }
      }
    }
    if (path.getValue("backend") instanceof JsonObject backend) validateBackend(backend, at + ".backend", causes);
    else causes.add(Causes.required(at + ".backend", null));
  }

  private static void validateBackend(JsonObject backend, String at, List<ApiError.Cause> causes) {
    boolean resource = backend.getValue("resource") instanceof JsonObject;
    boolean service = backend.getValue("service") instanceof JsonObject;
    if (resource && service) {
      causes.add(Causes.invalid(at, "", "cannot set both resource and service backends"));
    } else if (resource) {
      JsonObject r = backend.getJsonObject("resource");
      String group = r.getString("apiGroup");
      if (group != null && !group.isEmpty() && !Validation.isDns1123Subdomain(group)) {
        causes.add(Causes.invalid(at + ".resource.apiGroup", group, SUBDOMAIN_RULE));
      }
      if (r.getString("kind", "").isEmpty()) causes.add(Causes.required(at + ".resource.kind", null));
      if (r.getString("name", "").isEmpty()) causes.add(Causes.required(at + ".resource.name", null));
    } else if (service) {
      JsonObject svc = backend.getJsonObject("service");
      String name = svc.getString("name", "");
      if (name.isEmpty()) {
        causes.add(Causes.required(at + ".service.name", null));
      } else if (name.length() > 63 || !DNS1035.matcher(name).matches()) {
        causes.add(Causes.invalid(at + ".service.name", name, "a DNS-1035 label must consist of lower case alphanumeric "
            + "characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. "
            + "'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"));
      }
      JsonObject port = svc.getValue("port") instanceof JsonObject p ? p : new JsonObject();
      String portName = port.getString("name", "");
      Integer number = port.getValue("number") instanceof Number n ? n.intValue() : null;
      if (!portName.isEmpty() && number != null && number != 0) {
        causes.add(Causes.invalid(at, "", "cannot set both port name & port number"));
      } else if (!portName.isEmpty()) {
        if (portName.length() > 15 || !PORT_NAME.matcher(portName).matches() || !portName.matches(".*[a-z].*")) {
          causes.add(Causes.invalid(at + ".service.port.name", portName, "must be an IANA_SVC_NAME (at most 15 "
              + "characters, matching regex [a-z0-9]([a-z0-9-]*[a-z0-9])*, it must contain at least one letter "
              + "[a-z], and hyphens cannot be adjacent to other hyphens)"));
        }
      } else if (number == null || number == 0) {
        causes.add(Causes.required(at, "port name or number is required"));
      } else if (number < 1 || number > 65535) {
        causes.add(Causes.invalidNumber(at + ".service.port.number", number, "must be between 1 and 65535, inclusive"));
      }
    } else {
      causes.add(Causes.invalid(at, "", "resource or service backend is required"));
    }
  }

  /** An IngressClass's spec: a domain-prefixed controller, and parameters with their scope. */
  public static void validateIngressClass(JsonObject ingressClass, List<ApiError.Cause> causes) {
    JsonObject spec = ingressClass.getValue("spec") instanceof JsonObject s ? s : new JsonObject();
    String controller = spec.getString("controller", "");
    if (controller.isEmpty()) {
      causes.add(Causes.required("spec.controller", null));
    } else if (!controller.contains("/") || !Validation.isDns1123Subdomain(controller.substring(0, controller.indexOf('/')))
        || controller.endsWith("/")) {
      causes.add(Causes.invalid("spec.controller", controller, "must be a domain-prefixed path (such as \"acme.io/foo\")"));
    }
    if (spec.getValue("parameters") instanceof JsonObject p) {
      if (p.getString("kind", "").isEmpty()) causes.add(Causes.required("spec.parameters.kind", null));
      if (p.getString("name", "").isEmpty()) causes.add(Causes.required("spec.parameters.name", null));
      String scope = p.getString("scope");
      if (scope != null && !scope.equals("Cluster") && !scope.equals("Namespace")) {
        causes.add(Causes.notSupported("spec.parameters.scope", scope, "Cluster", "Namespace"));
      } else if ("Namespace".equals(scope) && p.getString("namespace", "").isEmpty()) {
        causes.add(Causes.required("spec.parameters.namespace", "`parameters.scope` is set to 'Namespace'"));
      } else if (!"Namespace".equals(scope) && p.getString("namespace") != null) {
        causes.add(Causes.forbidden("spec.parameters.namespace", "`parameters.scope` is set to 'Cluster'"));
      }
    }
  }

  /** A NetworkPolicy's spec. */
  public static void validateNetworkPolicy(JsonObject policy, List<ApiError.Cause> causes) {
    JsonObject spec = policy.getValue("spec") instanceof JsonObject s ? s : new JsonObject();
    selector(spec.getValue("podSelector"), "spec.podSelector", causes);
    for (String direction : List.of("ingress", "egress")) {
      JsonArray rules = spec.getValue(direction) instanceof JsonArray r ? r : new JsonArray();
      String peers = direction.equals("ingress") ? "from" : "to";
      for (int i = 0; i < rules.size(); i++) {
        if (!(rules.getValue(i) instanceof JsonObject rule)) continue;
        String at = "spec." + direction + "[" + i + "]";
        JsonArray ports = rule.getValue("ports") instanceof JsonArray p ? p : new JsonArray();
        for (int j = 0; j < ports.size(); j++) {
          if (ports.getValue(j) instanceof JsonObject port) validatePolicyPort(port, at + ".ports[" + j + "]", causes);
        }
        JsonArray list = rule.getValue(peers) instanceof JsonArray l ? l : new JsonArray();
        for (int j = 0; j < list.size(); j++) {
          if (list.getValue(j) instanceof JsonObject peer) validatePeer(peer, at + "." + peers + "[" + j + "]", causes);
        }
      }
    }
    JsonArray types = spec.getValue("policyTypes") instanceof JsonArray t ? t : new JsonArray();
    if (types.size() > 2) causes.add(Causes.invalid("spec.policyTypes", types.encode(), "may not specify more than two policyTypes"));
    for (int i = 0; i < types.size(); i++) {
      String t = String.valueOf(types.getValue(i));
      if (!t.equals("Ingress") && !t.equals("Egress")) {
        causes.add(Causes.notSupported("spec.policyTypes[" + i + "]", t, "Egress", "Ingress"));
      }
    }
  }

  private static void selector(Object sel, String at, List<ApiError.Cause> causes) {
    if (sel instanceof JsonObject s) Validation.validateLabelSelector(s, at, causes);
  }

  private static void validatePolicyPort(JsonObject port, String at, List<ApiError.Cause> causes) {
    String protocol = port.getString("protocol");
    if (protocol != null && !List.of("TCP", "UDP", "SCTP").contains(protocol)) {
      causes.add(Causes.notSupported(at + ".protocol", protocol, "SCTP", "TCP", "UDP"));
    }
    Object p = port.getValue("port");
    Integer endPort = port.getValue("endPort") instanceof Number n ? n.intValue() : null;
    if (p instanceof Number n) {
      int number = n.intValue();
      if (number < 1 || number > 65535) {
        causes.add(Causes.invalidNumber(at + ".port", number, "must be between 1 and 65535, inclusive"));
      }
      if (endPort != null && (endPort < 1 || endPort > 65535)) {
        causes.add(Causes.invalidNumber(at + ".endPort", endPort, "must be between 1 and 65535, inclusive"));
      } else if (endPort != null && endPort < number) {
        causes.add(Causes.invalidNumber(at + ".endPort", endPort, "must be greater than or equal to `port`"));
      }
    } else if (p instanceof String name) {
      if (name.length() > 15 || !PORT_NAME.matcher(name).matches() || !name.matches(".*[a-z].*")) {
        causes.add(Causes.invalid(at + ".port", name, "must contain at least one letter or number (a-z, 0-9)"));
      }
      if (endPort != null) causes.add(Causes.invalidNumber(at + ".endPort", endPort, "may not be specified when `port` is non-numeric"));
    } else if (endPort != null) {
      causes.add(Causes.invalidNumber(at + ".endPort", endPort, "may not be specified when `port` is not specified"));
    }
  }

  private static void validatePeer(JsonObject peer, String at, List<ApiError.Cause> causes) {
    boolean pods = peer.getValue("podSelector") instanceof JsonObject;
    boolean namespaces = peer.getValue("namespaceSelector") instanceof JsonObject;
    boolean block = peer.getValue("ipBlock") instanceof JsonObject;
    if (!pods && !namespaces && !block) {
      causes.add(Causes.required(at, "must specify a peer"));
      return;
    }
    if (block && (pods || namespaces)) {
      causes.add(Causes.forbidden(at, "may not specify both ipBlock and another peer"));
      return;
    }
    selector(peer.getValue("podSelector"), at + ".podSelector", causes);
    selector(peer.getValue("namespaceSelector"), at + ".namespaceSelector", causes);
    if (!block) return;
    JsonObject ipBlock = peer.getJsonObject("ipBlock");
    String cidr = ipBlock.getString("cidr", "");
    if (cidr.isEmpty()) {
      causes.add(Causes.required(at + ".ipBlock.cidr", null));
      return;
    }
    KubeCel.Cidr range = KubeCel.parseCidr(cidr);
    if (range == null) {
      causes.add(Causes.invalid(at + ".ipBlock.cidr", cidr, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
      return;
    }
    JsonArray except = ipBlock.getValue("except") instanceof JsonArray e ? e : new JsonArray();
    for (int i = 0; i < except.size(); i++) {
      String ex = String.valueOf(except.getValue(i));
      KubeCel.Cidr inner = KubeCel.parseCidr(ex);
      String field = at + ".ipBlock.except[" + i + "]";
      if (inner == null) {
        causes.add(Causes.invalid(field, ex, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
      } else if (inner.bits() <= range.bits() || !KubeCel.contains(range, inner)) {
        causes.add(Causes.invalid(field, ex, "must be a strict subset of `cidr`"));
      }
    }
  }
}

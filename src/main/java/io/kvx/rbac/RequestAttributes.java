package io.kvx.rbac;

import java.util.Locale;
import java.util.Set;

/**
 * What an authorizer decides on, as kube-apiserver's RequestInfo and authorizer attributes: a resource request
 * (verb, API group and version, resource, subresource, namespace, name) or a non-resource request (verb = the
 * lower-cased HTTP method, path).
 */
public record RequestAttributes(UserInfo user, String verb, boolean resourceRequest, String apiGroup, String apiVersion,
                                String resource, String subresource, String namespace, String name, String path) {

  /** Subresources of a namespace that stay on the namespaces resource (/api/v1/namespaces/NS/status). */
  private static final Set<String> NAMESPACE_SUBRESOURCES = Set.of("status", "finalize");

  public static RequestAttributes resource(UserInfo user, String verb, String group, String resource,
                                           String subresource, String namespace, String name) {
    return new RequestAttributes(user, verb, true, nz(group), "", nz(resource), nz(subresource), nz(namespace),
        nz(name), "");
  }

  public static RequestAttributes nonResource(UserInfo user, String verb, String path) {
    return new RequestAttributes(user, verb, false, "", "", "", "", "", "", path);
  }

  public RequestAttributes as(UserInfo other) {
    return new RequestAttributes(other, verb, resourceRequest, apiGroup, apiVersion, resource, subresource, namespace,
        name, path);
  }

  public RequestAttributes withVerb(String other) {
    return new RequestAttributes(user, other, resourceRequest, apiGroup, apiVersion, resource, subresource, namespace,
        name, path);
  }

  /**
   * An HTTP request as kube's RequestInfoFactory reads it: /api/v1/... and /apis/GROUP/VERSION/... with at least a
   * resource are resource requests (an optional legacy "watch" or "proxy" segment first sets the verb), anything
   * else is a non-resource request. {@code watch} is the watch query parameter, {@code fieldSelector} the field
   * selector (a list or watch of metadata.name=X is a request for that name).
   */
  public static RequestAttributes fromHttp(UserInfo user, String method, String path, String watch,
                                           String fieldSelector) {
    String m = method.toUpperCase(Locale.ROOT);
    String[] parts = trim(path).isEmpty() ? new String[0] : trim(path).split("/");
    int i;
    String group;
    String version;
    if (parts.length >= 3 && parts[0].equals("api")) {
      group = "";
      version = parts[1];
      i = 2;
    } else if (parts.length >= 4 && parts[0].equals("apis")) {
      group = parts[1];
      version = parts[2];
      i = 3;
    } else {
      return nonResource(user, m.toLowerCase(Locale.ROOT), path);
    }
    String verb = switch (m) {
      case "POST" -> "create";
      case "GET", "HEAD" -> "get";
      case "PUT" -> "update";
      case "PATCH" -> "patch";
      case "DELETE" -> "delete";
      default -> "";
    };
    if (parts[i].equals("watch") || parts[i].equals("proxy")) {
      verb = parts[i];
      i++;
      if (i >= parts.length) return nonResource(user, m.toLowerCase(Locale.ROOT), path);
    }
    String namespace = "";
    if (parts[i].equals("namespaces")) {
      if (parts.length > i + 1) {
        namespace = parts[i + 1];
        if (parts.length > i + 2 && !NAMESPACE_SUBRESOURCES.contains(parts[i + 2])) i += 2;
      }
    }
    int n = parts.length - i;
    String resource = parts[i];
    String name = n >= 2 ? parts[i + 1] : "";
    String subresource = n >= 3 && !verb.equals("proxy") ? parts[i + 2] : "";
    if (name.isEmpty() && verb.equals("get")) {
      verb = "true".equals(watch) || "1".equals(watch) ? "watch" : "list";
    }
    if (name.isEmpty() && verb.equals("delete")) verb = "deletecollection";
    if ((verb.equals("list") || verb.equals("watch")) && fieldSelector != null) {
      for (String term : fieldSelector.split(",")) {
        String t = term.trim();
        if (t.startsWith("metadata.name=")) {
          String v = t.substring(t.startsWith("metadata.name==") ? 15 : 14);
          if (!v.isEmpty()) name = v;
        }
      }
    }
    return new RequestAttributes(user, verb, true, group, version, resource, subresource, namespace, name, path);
  }

  private static String trim(String path) {
    String p = path;
    while (p.startsWith("/")) p = p.substring(1);
    while (p.endsWith("/")) p = p.substring(0, p.length() - 1);
    return p;
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }

  /**
   * kube-apiserver's words for a denial, before the resource prefix: User "U" cannot VERB resource "R[/S]" in API
   * group "G" in the namespace "NS" (or at the cluster scope), or User "U" cannot VERB path "P".
   */
  public String forbiddenMessage() {
    if (!resourceRequest) {
      return "User \"" + user.name() + "\" cannot " + verb + " path \"" + path + "\"";
    }
    String r = subresource.isEmpty() ? resource : resource + "/" + subresource;
    return "User \"" + user.name() + "\" cannot " + verb + " resource \"" + r + "\" in API group \"" + apiGroup + "\""
        + (namespace.isEmpty() ? " at the cluster scope" : " in the namespace \"" + namespace + "\"");
  }
}

// The Accounts answer.
#include "api/accounts.hpp"

#include "support/json.hpp"

namespace sidecar::api {
namespace {

void write_account(json::writer& w, const conf::account& a) {
  w.begin_object();
  w.key("sid").value(a.sid);
  w.key("friendly_name").value(a.friendly_name);
  w.key("parent_sid");
  if (a.parent.empty()) {
    w.raw("null");
  } else {
    w.value(a.parent);
  }
  w.key("traces").value(a.traces);
  w.end_object();
}

}  // namespace

std::string accounts_json(const conf::config& cfg, const conf::account& caller) {
  std::string out;
  json::writer w(out);
  w.begin_object().key("accounts").begin_array();
  write_account(w, caller);
  for (const conf::account& a : cfg.accounts) {
    if (a.sid != caller.sid && cfg.may_read(caller, a.sid)) write_account(w, a);
  }
  w.end_array().end_object();
  return out;
}

}  // namespace sidecar::api

#include "bench/load/catalogue_fill.hpp"

#include <cstdio>

#include "core/catalogue.hpp"

namespace natsfn::bench {

Status fill_catalogue(natsConnection* nc, const FillSpec& spec) {
  auto catalogue = Catalogue::open(nc);
  if (!catalogue.ok()) return catalogue.status();
  auto base = catalogue->get_function(spec.template_function);
  if (!base.ok()) return base.status();
  for (int i = 0; i < spec.count; ++i) {
    char suffix[16];
    snprintf(suffix, sizeof suffix, "%03d", i);
    FunctionConfig f = base.value();
    f.name = spec.name_prefix + suffix;
    f.min_warm = 0;
    if (Status s = catalogue->put_function(f); !s.ok()) return s;
    if (!spec.bind_prefix.empty()) {
      if (Status s = catalogue->put_binding(Binding::nats(spec.bind_prefix + suffix, f.name));
          !s.ok())
        return s;
    }
  }
  return Status::OK();
}

}  // namespace natsfn::bench

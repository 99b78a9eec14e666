// placeholder until the view is written
import { h } from "./dom.js";

export default {
  id: "admin",
  title: "nav.admin",
  mount(el) {
    el.append(h("p", null, "…"));
  },
};

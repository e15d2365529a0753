/* The report-template editor: sections as a list the administrator orders and fills in;
   saved as JSON in one hidden field, checked again by the server. */
(function () {
  "use strict";
  window.kefuReportEditor = function () {
    var data = JSON.parse(document.getElementById("editor-data").textContent);
    return {
      sections: data.sections.map(function (s) {
        return { kind: s.kind, title: s.title || "", body: s.body || "", metrics: s.metrics || [], table: s.table || data.tables[0].id, chart: s.chart || data.charts[0].id };
      }),
      kinds: data.kinds, metrics: data.metrics, tables: data.tables, charts: data.charts,
      add: function () { this.sections.push({ kind: "text", title: "", body: "", metrics: [], table: this.tables[0].id, chart: this.charts[0].id }); },
      move: function (i, step) {
        var j = i + step;
        if (j < 0 || j >= this.sections.length) { return; }
        var item = this.sections.splice(i, 1)[0];
        this.sections.splice(j, 0, item);
      },
      save: function () {
        this.$refs.sections.value = JSON.stringify(this.sections.map(function (s) {
          var out = { kind: s.kind, title: s.title };
          if (s.kind === "text") { out.body = s.body; }
          if (s.kind === "figures") { out.metrics = s.metrics; }
          if (s.kind === "table") { out.table = s.table; }
          if (s.kind === "chart") { out.chart = s.chart; }
          return out;
        }));
      }
    };
  };
})();

/* Report charts: work orders per day, by channel and type, SLA time distributions, calls. */
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  ready(function () {
    var source = document.getElementById("report-charts");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var charts = [];
    var palette = ["#0d6efd", "#20c997", "#fd7e14", "#6f42c1", "#dc3545", "#0dcaf0", "#6c757d"];
    function make(id, option) {
      var box = document.getElementById(id);
      if (!box) { return; }
      var chart = window.echarts.init(box);
      option.color = option.color || palette;
      chart.setOption(option);
      charts.push(chart);
    }
    make("chart-volume", {
      tooltip: { trigger: "axis" }, legend: { bottom: 0 },
      grid: { left: 44, right: 12, top: 12, bottom: 48 },
      xAxis: { type: "category", data: data.volume.days },
      yAxis: { type: "value", minInterval: 1 },
      series: data.volume.series.map(function (s) { return { name: s.name, type: "line", data: s.data, symbolSize: 5 }; })
    });
    make("chart-channels", {
      tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: ["35%", "70%"], data: data.channels.data }]
    });
    make("chart-types", {
      tooltip: { trigger: "axis" }, grid: { left: 44, right: 12, top: 12, bottom: 60 },
      xAxis: { type: "category", data: data.types.labels, axisLabel: { rotate: 30 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: data.types.data, barMaxWidth: 36 }]
    });
    data.distributions.forEach(function (d, i) {
      make("chart-dist-" + i, {
        color: [palette[i + 2]], tooltip: { trigger: "axis" },
        grid: { left: 44, right: 12, top: 12, bottom: 40 },
        xAxis: { type: "category", data: d.labels }, yAxis: { type: "value", minInterval: 1 },
        series: [{ name: d.metric, type: "bar", data: d.counts, barMaxWidth: 36 }]
      });
    });
    if (data.calls) {
      make("chart-calls", {
        tooltip: { trigger: "axis" }, legend: { bottom: 0 },
        grid: { left: 50, right: 50, top: 12, bottom: 48 },
        xAxis: { type: "category", data: data.calls.days },
        yAxis: [{ type: "value", minInterval: 1 }, { type: "value", min: 0, max: 100 }],
        series: [
          { name: data.calls.labels[0], type: "bar", data: data.calls.offered, barMaxWidth: 24 },
          { name: data.calls.labels[1], type: "line", yAxisIndex: 1, data: data.calls.service_level, connectNulls: true }
        ]
      });
    }
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  });
})();

pytest_plugins = ["kefu.testing.fixtures"]

module rwk.local/images/podinfo

go 1.26
